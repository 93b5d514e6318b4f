package org.quicmigration;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link NetworkMonitor} the application feeds with its own signals (see {@link NetworkMonitor} for an Android
 * shape). Thread-safe; listeners run on the thread that calls {@link #update}.
 */
public final class ManualNetworkMonitor implements NetworkMonitor {

    private static final System.Logger LOG = System.getLogger(ManualNetworkMonitor.class.getName());

    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile List<Network> networks = List.of();
    private volatile InetAddress defaultSource;

    ManualNetworkMonitor() {
    }

    /**
     * Reports the usable networks now, and tells the listeners.
     *
     * @param usable the networks the application can use now; empty if none
     */
    public void update(List<Network> usable) {
        networks = List.copyOf(Objects.requireNonNull(usable, "usable"));
        listeners.forEach(ManualNetworkMonitor::call);
    }

    /**
     * Reports the usable networks and the one the application wants used by default (for example the system's
     * default network), and tells the listeners.
     *
     * @param usable        the networks the application can use now; empty if none
     * @param defaultSource the local address of the default network, or null if there is none
     */
    public void update(List<Network> usable, InetAddress defaultSource) {
        this.defaultSource = defaultSource;
        update(usable);
    }

    @Override
    public List<Network> networks() {
        return networks;
    }

    @Override
    public Optional<InetAddress> defaultSource(InetSocketAddress destination) {
        return Optional.ofNullable(defaultSource);
    }

    @Override
    public Subscription subscribe(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private static void call(Runnable listener) {
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "network listener " + listener + " failed", e);
        }
    }
}
