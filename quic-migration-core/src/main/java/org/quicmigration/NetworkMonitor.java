package org.quicmigration;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Tells a client's {@link MigrationPolicy} which local networks are usable and when that changes.
 *
 * <p>{@link #system()} asks the operating system; an application that already has better signals (on Android,
 * {@code ConnectivityManager.NetworkCallback}) feeds them through {@link #manual()}:
 * <pre>{@code
 * ManualNetworkMonitor networks = NetworkMonitor.manual();
 * connectivityManager.registerDefaultNetworkCallback(new ConnectivityManager.NetworkCallback() {
 *     public void onLinkPropertiesChanged(android.net.Network network, LinkProperties properties) {
 *         networks.update(toNetworks(properties));   // every usable interface and its addresses
 *     }
 *     public void onLost(android.net.Network network) {
 *         networks.update(toNetworks(currentLinkProperties()));
 *     }
 * });
 * MigratingClient client = MigratingClient.builder().networkMonitor(networks)...build();
 * }</pre>
 *
 * <p>Implementations are thread-safe; listeners may be called on any thread and must return at once.
 */
public interface NetworkMonitor {

    /** {@return the usable local networks now: interfaces that are up, with their addresses; never loopback} */
    List<Network> networks();

    /**
     * The local address the operating system would send from to reach {@code destination} (its routing choice, the
     * "default network" for that destination), if known.
     *
     * @param destination where the connection sends
     * @return the local source address, or empty if unknown
     */
    default Optional<InetAddress> defaultSource(InetSocketAddress destination) {
        return Optional.empty();
    }

    /**
     * Calls {@code listener} whenever {@link #networks()}, or the routes behind {@link #defaultSource}, may have
     * changed.
     *
     * @param listener what to call
     * @return call its {@link Subscription#cancel()} to stop the calls
     */
    Subscription subscribe(Runnable listener);

    /** Stops a {@link #subscribe} listener. */
    interface Subscription {
        /** Stops the calls; idempotent. */
        void cancel();
    }

    /**
     * The operating system's view, read from {@link java.net.NetworkInterface} (and on Linux the main routing
     * tables, {@code /proc/net/route} and {@code /proc/net/ipv6_route}) every 250 ms on one shared daemon thread while
     * anyone listens; a change is believed when two reads in a row agree. The default source comes from the kernel's
     * route choice (a connected UDP socket's local address, no packet sent), so a route that arrives after its
     * address changes it.
     *
     * @return the shared system monitor
     */
    static NetworkMonitor system() {
        return SystemNetworkMonitor.DEFAULT;
    }

    /**
     * As {@link #system()}, polling at {@code interval} (at least 10 ms).
     *
     * @param interval how often to read the interfaces
     * @return a new system monitor
     */
    static NetworkMonitor system(Duration interval) {
        return new SystemNetworkMonitor(interval);
    }

    /** {@return a monitor the application feeds itself}; it reports no network until the first update. */
    static ManualNetworkMonitor manual() {
        return new ManualNetworkMonitor();
    }
}
