package org.quicmigration.examples;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP network between clients and one server, on loopback, for examples, tests and benchmarks. Clients send to
 * {@link #address()}; the emulator forwards to the server through one socket per client address, as a NAT does,
 * so the server sees a client that changes address (or that the NAT rebinds) change address too. Each direction is
 * a link with:
 * <ul>
 * <li>a one-way <b>delay</b> and uniform <b>jitter</b> (datagrams stay in order, as on most real links);</li>
 * <li>random <b>loss</b>;</li>
 * <li>a <b>bandwidth</b> limit: datagrams queue behind each other (at most {@value #MAX_QUEUED} per direction; more
 *     are dropped, like a router's full buffer);</li>
 * </ul>
 * and at run time, per client address, an abrupt <b>outage</b> ({@link #outage}: everything from and to it is
 * dropped, as when a Wi-Fi network goes out of range), and a <b>NAT rebinding</b> of every client
 * ({@link #rebindAll}: new ports towards the server).
 *
 * <p>Only forwards between loopback addresses. Thread-safe; {@link #close()} stops it.
 */
public final class NetworkEmulator implements AutoCloseable {

    /** Datagrams waiting in one direction, at most. */
    public static final int MAX_QUEUED = 4_096;

    private final DatagramSocket front;
    private final InetSocketAddress server;
    private final Link up;
    private final Link down;
    private final Map<InetSocketAddress, DatagramSocket> backByClient = new ConcurrentHashMap<>();
    private final Set<InetAddress> outages = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "network-emulator");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;
    private volatile java.util.function.Consumer<byte[]> tap;
    private final boolean backAddressPerClientAddress;
    private final Map<InetAddress, InetAddress> backAddresses = new ConcurrentHashMap<>();

    /** Settings of a {@link NetworkEmulator}: all zero (a perfect link) unless set. */
    public static final class Builder {
        private final InetSocketAddress server;
        private Duration delay = Duration.ZERO;
        private Duration jitter = Duration.ZERO;
        private double loss;
        private long bytesPerSecond;
        private long seed = 1;
        private InetAddress listenOn;
        private boolean backAddressPerClientAddress;

        private Builder(InetSocketAddress server) {
            this.server = Objects.requireNonNull(server, "server");
        }

        /** One-way delay, added in each direction. */
        public Builder delay(Duration oneWay) {
            this.delay = requireNonNegative(oneWay, "delay");
            return this;
        }

        /** Up to this much more delay, uniformly at random, per datagram (order is kept). */
        public Builder jitter(Duration jitter) {
            this.jitter = requireNonNegative(jitter, "jitter");
            return this;
        }

        /** The probability (0 to 1) that a datagram is lost, in each direction. */
        public Builder loss(double probability) {
            if (!(probability >= 0 && probability <= 1)) {
                throw new IllegalArgumentException("loss must be between 0 and 1, not " + probability);
            }
            this.loss = probability;
            return this;
        }

        /** Bytes per second in each direction; 0 for unlimited. */
        public Builder bandwidth(long bytesPerSecond) {
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("bandwidth must be 0 (unlimited) or more, not " + bytesPerSecond);
            }
            this.bytesPerSecond = bytesPerSecond;
            return this;
        }

        /** Seed of the loss and jitter randomness, for runs that repeat exactly. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The address clients send to: loopback (the default: the server's address), or an address of the
         * benchmarking range 198.18.0.0/15, for a server in a network namespace of its own.
         */
        public Builder listenOn(InetAddress address) {
            this.listenOn = requireLoopbackOrBenchmarking(address);
            return this;
        }

        /**
         * Gives each client address its own loopback address towards the server (127.0.1.1, 127.0.1.2, ... in the
         * order they appear), so the server sees a client that changes address change address, not only port.
         */
        public Builder backAddressPerClientAddress(boolean distinct) {
            this.backAddressPerClientAddress = distinct;
            return this;
        }

        /** Opens the emulator's sockets and starts forwarding. */
        public NetworkEmulator start() throws SocketException {
            return new NetworkEmulator(this);
        }

        private static Duration requireNonNegative(Duration value, String name) {
            if (value.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative: " + value);
            }
            return value;
        }
    }

    /** An emulator in front of {@code server}, a loopback address. */
    public static Builder builder(InetSocketAddress server) {
        if (!server.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the emulator only forwards to loopback, not " + server);
        }
        return new Builder(server);
    }

    private NetworkEmulator(Builder builder) throws SocketException {
        this.server = builder.server;
        this.backAddressPerClientAddress = builder.backAddressPerClientAddress;
        Random random = new Random(builder.seed);
        this.up = new Link(builder, random);
        this.down = new Link(builder, random);
        this.front = new DatagramSocket(new InetSocketAddress(
                builder.listenOn != null ? builder.listenOn : server.getAddress(), 0));
        front.setReceiveBufferSize(4 << 20);
        start("network-emulator-in", this::pumpFromClients);
    }

    /** Where clients send to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /**
     * Starts ({@code true}) or ends an outage of the client network {@code address}: from now on, everything from
     * and to clients on it is dropped, including what is already on its way.
     */
    public void outage(InetAddress address, boolean down) {
        if (down) {
            outages.add(address);
        } else {
            outages.remove(address);
        }
    }

    /** Gives every client a new port towards the server, as a NAT that rebinds does; returns how many. */
    public int rebindAll() {
        int count = 0;
        for (InetSocketAddress client : backByClient.keySet()) {
            DatagramSocket old = backByClient.remove(client);
            if (old != null) {
                old.close();
                count++;
            }
        }
        return count;
    }

    /**
     * Hands a copy of every datagram from a client, as it enters the emulator, to {@code copies} (null: none), as
     * an on-path observer would see it. For attack demonstrations (RFC 9000 9.3.2); called on the emulator's
     * receive thread.
     */
    public void tap(java.util.function.Consumer<byte[]> copies) {
        this.tap = copies;
    }

    /** Datagrams forwarded so far, both directions. */
    public long forwarded() {
        return forwarded.get();
    }

    /** Datagrams dropped so far (loss, outage, full queue), both directions. */
    public long dropped() {
        return dropped.get();
    }

    private void pumpFromClients() {
        byte[] buffer = new byte[65_536];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        while (!closed) {
            try {
                packet.setLength(buffer.length);
                front.receive(packet);
                InetSocketAddress client = (InetSocketAddress) packet.getSocketAddress();
                java.util.function.Consumer<byte[]> copies = tap;
                if (copies != null) {
                    copies.accept(java.util.Arrays.copyOfRange(packet.getData(), packet.getOffset(),
                            packet.getOffset() + packet.getLength()));
                }
                if (outages.contains(client.getAddress())) {
                    dropped.incrementAndGet();
                    continue;
                }
                DatagramSocket back = backByClient.computeIfAbsent(client, this::openBack);
                up.forward(packet, client.getAddress(), () -> backByClient.get(client) == back, back, server);
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    System.err.println("network emulator: " + e);
                }
            }
        }
    }

    private DatagramSocket openBack(InetSocketAddress client) {
        try {
            InetAddress backAddress = !backAddressPerClientAddress ? server.getAddress()
                    : backAddresses.computeIfAbsent(client.getAddress(), c -> loopback(backAddresses.size() + 1));
            DatagramSocket back = new DatagramSocket(new InetSocketAddress(backAddress, 0));
            back.setReceiveBufferSize(4 << 20);
            start("network-emulator-out", () -> {
                byte[] buffer = new byte[65_536];
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                while (!closed && !back.isClosed()) {
                    try {
                        packet.setLength(buffer.length);
                        back.receive(packet);
                        down.forward(packet, client.getAddress(), () -> true, front, client);
                    } catch (IOException e) {
                        return; // rebound or closed
                    }
                }
            });
            return back;
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code address} if it is loopback or in 198.18.0.0/15 (where test network namespaces live), else throws. */
    static InetAddress requireLoopbackOrBenchmarking(InetAddress address) {
        byte[] bytes = address.getAddress();
        boolean benchmarking = bytes.length == 4 && (bytes[0] & 0xff) == 198 && ((bytes[1] & 0xff) & 0xfe) == 18;
        if (!address.isLoopbackAddress() && !benchmarking) {
            throw new IllegalArgumentException("only loopback or 198.18.0.0/15 addresses, not " + address);
        }
        return address;
    }

    private static InetAddress loopback(int index) {
        try {
            return InetAddress.getByAddress(new byte[]{127, 0, (byte) (1 + index / 250), (byte) (1 + index % 250)});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One direction: loss, then the bandwidth queue, then delay and jitter, in order. */
    private final class Link {
        private final long delayNanos;
        private final long jitterNanos;
        private final double loss;
        private final long bytesPerSecond;
        private final Random random;
        private long lastDeliveryNanos; // guarded by this
        private long linkFreeNanos;     // guarded by this
        private int queued;             // guarded by this

        Link(Builder builder, Random random) {
            this.delayNanos = builder.delay.toNanos();
            this.jitterNanos = builder.jitter.toNanos();
            this.loss = builder.loss;
            this.bytesPerSecond = builder.bytesPerSecond;
            this.random = random;
        }

        /**
         * @param clientNetwork the client address this datagram comes from or goes to (for outages)
         * @param stillValid    false at delivery time if the NAT binding it was to use is gone
         */
        void forward(DatagramPacket packet, InetAddress clientNetwork, java.util.function.BooleanSupplier stillValid,
                     DatagramSocket via, InetSocketAddress to) {
            byte[] copy = java.util.Arrays.copyOfRange(packet.getData(), packet.getOffset(),
                    packet.getOffset() + packet.getLength());
            long deliverAt;
            synchronized (this) {
                if (outages.contains(clientNetwork) || (loss > 0 && random.nextDouble() < loss) || queued >= MAX_QUEUED) {
                    dropped.incrementAndGet();
                    return;
                }
                long now = System.nanoTime();
                long leaves = now;
                if (bytesPerSecond > 0) {
                    leaves = Math.max(now, linkFreeNanos) + copy.length * 1_000_000_000L / bytesPerSecond;
                    linkFreeNanos = leaves;
                }
                long jitter = jitterNanos > 0 ? (long) (random.nextDouble() * jitterNanos) : 0;
                deliverAt = Math.max(lastDeliveryNanos, leaves + delayNanos + jitter);
                lastDeliveryNanos = deliverAt;
                queued++;
            }
            Runnable send = () -> {
                synchronized (this) {
                    queued--;
                }
                if (closed || outages.contains(clientNetwork) || !stillValid.getAsBoolean()) {
                    dropped.incrementAndGet();
                    return;
                }
                try {
                    via.send(new DatagramPacket(copy, copy.length, to));
                    forwarded.incrementAndGet();
                } catch (IOException e) {
                    dropped.incrementAndGet(); // closed, or the destination is gone: a lost datagram
                }
            };
            long wait = deliverAt - System.nanoTime();
            try {
                if (wait <= 0) {
                    send.run();
                } else {
                    scheduler.schedule(send, wait, TimeUnit.NANOSECONDS);
                }
            } catch (java.util.concurrent.RejectedExecutionException e) {
                dropped.incrementAndGet(); // closing
            }
        }
    }

    private static void start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        front.close();
        backByClient.values().forEach(DatagramSocket::close);
    }
}
