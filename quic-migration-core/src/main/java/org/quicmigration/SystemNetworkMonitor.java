package org.quicmigration;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's view of the host's networks: {@link NetworkInterface} polled on one shared daemon thread while anyone
 * listens. A poll that finds the same networks as the last one tells nobody.
 */
final class SystemNetworkMonitor implements NetworkMonitor {

    private static final System.Logger LOG = System.getLogger(SystemNetworkMonitor.class.getName());
    static final Duration DEFAULT_INTERVAL = Duration.ofMillis(250);
    static final SystemNetworkMonitor DEFAULT = new SystemNetworkMonitor(DEFAULT_INTERVAL);
    private static final ScheduledExecutorService POLLER = poller();

    private final long intervalNanos;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile List<Network> networks;
    private ScheduledFuture<?> polling; // guarded by this

    SystemNetworkMonitor(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("interval must be at least 10 ms: " + interval);
        }
        this.intervalNanos = interval.toNanos();
    }

    private static ScheduledExecutorService poller() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                MigrationServer.daemonThreads("quic-migration-network-monitor"));
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    @Override
    public List<Network> networks() {
        List<Network> known = networks;
        return known != null ? known : read();
    }

    @Override
    public Optional<InetAddress> defaultSource(InetSocketAddress destination) {
        // Connecting a UDP socket sends nothing; the kernel picks the route and with it the source address.
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.connect(destination);
            InetAddress local = ((InetSocketAddress) probe.getLocalAddress()).getAddress();
            return local.isAnyLocalAddress() ? Optional.empty() : Optional.of(local);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // no route there now
        }
    }

    @Override
    public Subscription subscribe(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (this) {
            listeners.add(listener);
            if (polling == null) {
                networks = read();
                polling = POLLER.scheduleWithFixedDelay(this::poll, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
            }
        }
        return () -> {
            synchronized (this) {
                if (listeners.remove(listener) && listeners.isEmpty() && polling != null) {
                    polling.cancel(false);
                    polling = null;
                    networks = null;
                }
            }
        };
    }

    private void poll() {
        List<Network> now = read();
        if (now.equals(networks)) {
            return;
        }
        networks = now;
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "network listener " + listener + " failed", e);
            }
        }
    }

    /** Every address of every interface that is up, except loopback and link-local ones. */
    static List<Network> read() {
        List<Network> found = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    if (!address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
                        found.add(new Network(nic.getName(), address));
                    }
                }
            }
        } catch (SocketException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot list network interfaces: " + e.getMessage());
        }
        return List.copyOf(found);
    }
}
