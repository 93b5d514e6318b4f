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
 * listens, and on Linux the kernel's main routing tables with it. A poll that finds the same networks and routes as
 * the last one tells nobody.
 *
 * <p>A poll believes a change only when two reads in a row agree: one enumeration while another interface gains or
 * loses an address can leave out an address that never went away (about 3 in 100,000 reads on Linux with an
 * address added and removed every 25 ms), and a connection told so would leave a network that works. A read that
 * fails changes nothing either.
 *
 * <p>Routes count because a network is usable only once the kernel routes to the server over it, and that comes
 * after its address: DHCP, or {@code ip addr add} and then {@code ip route add}, leaves a moment in which the
 * address is there and the route is not. The policy ranks by the kernel's choice of source address, which the
 * route's arrival changes while the addresses stay the same.
 */
final class SystemNetworkMonitor implements NetworkMonitor {

    private static final System.Logger LOG = System.getLogger(SystemNetworkMonitor.class.getName());
    static final Duration DEFAULT_INTERVAL = Duration.ofMillis(250);
    static final SystemNetworkMonitor DEFAULT = new SystemNetworkMonitor(DEFAULT_INTERVAL);
    private static final ScheduledExecutorService POLLER = poller();
    /** Reads of one poll that may disagree before the poll gives up until the next (the host is changing). */
    static final int MAX_READS = 4;

    private final long intervalNanos;
    private final Source source;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /** The last snapshot reported; null while nobody listens. Written on the poller thread and under this. */
    private volatile Snapshot last;
    private ScheduledFuture<?> polling; // guarded by this

    SystemNetworkMonitor(Duration interval) {
        this(interval, Source.SYSTEM);
    }

    SystemNetworkMonitor(Duration interval, Source source) {
        Objects.requireNonNull(interval, "interval");
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("interval must be at least 10 ms: " + interval);
        }
        this.intervalNanos = interval.toNanos();
        this.source = Objects.requireNonNull(source, "source");
    }

    /** Where a poll reads the host's state; the system's, or a test's. */
    interface Source {
        /** Every address of every interface that is up, except loopback and link-local ones. */
        List<Network> networks() throws SocketException;

        /** The routes that pick a source address, as text compared from poll to poll; empty where unreadable. */
        String routes();

        Source SYSTEM = new Source() {
            @Override
            public List<Network> networks() throws SocketException {
                return readInterfaces();
            }

            @Override
            public String routes() {
                return KernelRoutes.read();
            }
        };
    }

    /** What a poll compares. */
    private record Snapshot(List<Network> networks, String routes) {
    }

    private static ScheduledExecutorService poller() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                DaemonThreads.named("quic-migration-network-monitor"));
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    @Override
    public List<Network> networks() {
        Snapshot known = last;
        if (known != null) {
            return known.networks();
        }
        try {
            return source.networks();
        } catch (SocketException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot list network interfaces: " + e.getMessage());
            return List.of();
        }
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
                Snapshot first = confirmedRead(null);
                last = first != null ? first : new Snapshot(networks(), source.routes());
                polling = POLLER.scheduleWithFixedDelay(this::poll, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
            }
        }
        return () -> {
            synchronized (this) {
                if (listeners.remove(listener) && listeners.isEmpty() && polling != null) {
                    polling.cancel(false);
                    polling = null;
                    last = null;
                }
            }
        };
    }

    /** One poll: tells the listeners if the networks or routes changed. Poller thread (tests call it directly). */
    void poll() {
        Snapshot known = last;
        Snapshot now = confirmedRead(known);
        if (known == null || now == null || now.equals(known)) {
            return;
        }
        last = now;
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "network listener " + listener + " failed", e);
            }
        }
    }

    /**
     * The host's state, once a read equals {@code known} (nothing changed: one read) or the read before it (a change
     * seen twice); null if {@link #MAX_READS} reads did not settle or a read failed.
     */
    private Snapshot confirmedRead(Snapshot known) {
        Snapshot previous = known;
        for (int i = 0; i < MAX_READS; i++) {
            Snapshot read;
            try {
                read = new Snapshot(source.networks(), source.routes());
            } catch (SocketException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot list network interfaces: " + e.getMessage());
                return null;
            }
            if (read.equals(previous)) {
                return read;
            }
            previous = read;
        }
        return null;
    }

    static List<Network> readInterfaces() throws SocketException {
        List<Network> found = new ArrayList<>();
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
        return List.copyOf(found);
    }
}
