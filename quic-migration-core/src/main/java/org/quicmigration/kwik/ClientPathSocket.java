package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.quicmigration.core.ConnectionId;

/**
 * Internal: the client's per-path socket layer, presented to Kwik as one {@link DatagramSocket} (W16,
 * docs/kwik-workarounds.md#w16).
 *
 * <p>Each path (local address) has its own UDP channel, connected to the server. Kwik sees a single socket:
 * <ul>
 * <li>{@link #send}: each outgoing datagram leaves on the path that owns the destination connection ID in its
 *     header (RFC 9000 9.5: an ID is never used from two local addresses). Packets Kwik built with the old ID
 *     before a switch therefore still leave on the old path, whatever the sender thread's timing. Long-header
 *     packets, and IDs without a route, use the active path.</li>
 * <li>{@link #receive}: datagrams from every path's channel, all presented as coming from the server address
 *     Kwik knows.</li>
 * </ul>
 * Connected channels let the kernel report ICMP "port unreachable", which fails a handshake fast.
 *
 * <p>Kwik's receiver thread is the only caller of {@link #receive}, Kwik's sender thread the only caller of
 * {@link #send}; path changes come from the migration thread. No allocation per datagram.
 */
final class ClientPathSocket extends DatagramSocket {

    private static final System.Logger LOG = System.getLogger(ClientPathSocket.class.getName());
    private static final int BUFFER_SIZE = 65_536;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;

    private final InetSocketAddress server;
    private final Runnable onPortUnreachable;
    private final Selector selector;
    /** Selection operations completed; each one releases the sockets of the channels closed before it. */
    private volatile long selections;
    private final Map<InetSocketAddress, DatagramChannel> channels = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<DatagramChannel> toRegister = new ConcurrentLinkedQueue<>();
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private volatile Route[] routes = new Route[0];
    private volatile DatagramChannel active;
    private volatile InetSocketAddress activeLocal;
    private volatile boolean closed;
    /** While set, received datagrams wait for it to say true ({@link #holdReceivedUntil}); then it is cleared. */
    private volatile java.util.function.BooleanSupplier receiveGate;
    private volatile long receiveGateDeadline;
    private volatile WireTrace trace;
    private Iterator<SelectionKey> ready;
    private final Map<DatagramChannel, long[]> counters = new ConcurrentHashMap<>();
    /** Each path's addresses, for packet traces. */
    private final Map<DatagramChannel, org.quicmigration.core.Tuple> tuples = new ConcurrentHashMap<>();
    /** The channel of the last datagram sent; written and read on Kwik's sender thread only. */
    private DatagramChannel lastSentOn;
    /**
     * The channels the last {@value #RECEIVED_RING} datagrams arrived on, by Kwik's datagram number (Kwik numbers
     * the datagrams it processes 1, 2, 3... in the order this socket delivers them), so a packet trace can tell
     * the path of a received packet although Kwik parses it on another thread, later.
     */
    private static final int RECEIVED_RING = 256;
    private final DatagramChannel[] receivedOn = new DatagramChannel[RECEIVED_RING];
    private final long[] receivedNumber = new long[RECEIVED_RING];
    private long delivered;
    /** The rest of a datagram after its Handshake packet, for the next {@link #receive}; receiving thread only. */
    private final CoalescedRest<DatagramChannel> coalescedRest = new CoalescedRest<>();
    /** Seals validate-first challenges again for their new path; null until the connection exists. */
    private volatile ProbeResealer resealer;
    /** The last packet sealed again instead of Kwik's, for traces; sender thread only. */
    private tech.kwik.core.packet.QuicPacket lastResealed;
    /**
     * Whether a packet observer wants {@link #receivedPath}; without one, receiving records paths only while there
     * are several (a PATH_CHALLENGE is answered on the path it came on).
     */
    private volatile boolean recordPaths;
    /** When the last datagram arrived on the active path (System.nanoTime()); receiving thread writes it. */
    private volatile long lastReceivedOnActiveNanos = System.nanoTime();

    /** The paths whose last send or receive failed; reported once per failure, cleared by the next good send. */
    private final java.util.Set<DatagramChannel> failedPaths = ConcurrentHashMap.newKeySet();
    /** Told when a path's socket fails or works again; null until the connection exists. */
    private volatile PathFailureListener failureListener;

    /**
     * Hears about the OS taking a path away: a send or receive on its socket failed (the local address was removed,
     * the route or link went away, a firewall refused the datagram). Called on Kwik's sender or receiver thread,
     * once per failure and once per recovery; implementations hand off and return at once.
     */
    interface PathFailureListener {
        void pathFailed(InetSocketAddress local, IOException error);

        void pathWorks(InetSocketAddress local);
    }

    /** A destination connection ID and the path it belongs to. */
    private record Route(ConnectionId destination, DatagramChannel channel, InetSocketAddress local) {
    }

    ClientPathSocket(InetSocketAddress local, InetSocketAddress server, Runnable onPortUnreachable) throws SocketException {
        super((SocketAddress) null);
        this.server = server;
        this.onPortUnreachable = onPortUnreachable;
        try {
            this.selector = Selector.open();
            DatagramChannel first = openChannel(local, server);
            this.active = first;
            this.activeLocal = (InetSocketAddress) first.getLocalAddress();
        } catch (IOException e) {
            super.close();
            throw socketException("cannot open a UDP socket on " + local + " for " + server, e);
        }
    }

    /**
     * Opens a path on {@code local} (port 0 for any) and returns its bound address.
     *
     * @throws SocketException if the address cannot be bound
     */
    InetSocketAddress addPath(InetSocketAddress local) throws SocketException {
        return addPath(local, server);
    }

    /** Opens a path from {@code local} to another server address (the server's preferred_address). */
    InetSocketAddress addPath(InetSocketAddress local, InetSocketAddress remote) throws SocketException {
        try {
            DatagramChannel channel = openChannel(local, remote);
            selector.wakeup();
            return (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            throw socketException("cannot bind " + local + ": " + e.getMessage(), e);
        }
    }

    /** Makes {@code local} the path for long-header packets and for IDs without a route. */
    void activate(InetSocketAddress local) {
        DatagramChannel channel = requireChannel(local);
        active = channel;
        activeLocal = local;
    }

    /** Sends datagrams whose destination ID is {@code destination} on the path of {@code local}. */
    void route(ConnectionId destination, InetSocketAddress local) {
        DatagramChannel channel = requireChannel(local);
        synchronized (this) {
            Route[] current = routes;
            Route[] next = new Route[current.length + 1];
            int n = 0;
            for (Route route : current) {
                if (!route.destination().equals(destination)) {
                    next[n++] = route;
                }
            }
            next[n++] = new Route(destination, channel, local);
            routes = java.util.Arrays.copyOf(next, n);
        }
    }

    /**
     * Closes the path of {@code local} after {@code delayNanos}, unless it is the active path again by then;
     * meanwhile it still receives, so what the server sent there before it learnt of a move still arrives.
     */
    void closePathLater(InetSocketAddress local, long delayNanos, java.util.concurrent.ScheduledExecutorService scheduler) {
        DatagramChannel channel = channels.get(local);
        if (channel == null) {
            return;
        }
        scheduler.schedule(() -> {
            if (channels.get(local) == channel && active != channel) {
                removePath(local);
            }
        }, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * As {@link #removePath}, then waits (at most 200 ms) until the socket has really let go of its port, so that
     * {@code local} can be bound again at once: a channel registered with a selector keeps its socket until the next
     * selection operation deregisters it.
     */
    void removePathAndRelease(InetSocketAddress local) {
        long before = selections;
        removePath(local);
        long deadline = System.nanoTime() + 200_000_000L;
        while (selections == before && System.nanoTime() < deadline && !closed) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000); // the receiver thread's select returns at once
        }
    }

    /** Closes the path of {@code local} and forgets its routes. */
    void removePath(InetSocketAddress local) {
        DatagramChannel channel = channels.remove(local);
        if (channel == null) {
            return;
        }
        counters.remove(channel);
        tuples.remove(channel);
        failedPaths.remove(channel);
        synchronized (this) {
            routes = java.util.Arrays.stream(routes).filter(route -> route.channel() != channel).toArray(Route[]::new);
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do: the path is gone either way
        }
        selector.wakeup();
    }

    void trace(WireTrace trace) {
        this.trace = trace;
    }

    void onPathFailure(PathFailureListener listener) {
        this.failureListener = listener;
    }

    /** Per path: datagrams sent and received, for diagnostics. */
    String describe() {
        StringBuilder text = new StringBuilder("active " + activeLocal + "; routes " + routes.length);
        for (Map.Entry<InetSocketAddress, DatagramChannel> entry : channels.entrySet()) {
            long[] count = counters.getOrDefault(entry.getValue(), new long[2]);
            text.append("; path ").append(entry.getKey()).append(" sent ").append(count[0]).append(" received ").append(count[1]);
        }
        return text.toString();
    }

    /** Starts or stops remembering which path each received datagram came on (for packet observers). */
    void recordPaths(boolean record) {
        this.recordPaths = record;
    }

    /** The path the last datagram was sent on; call on Kwik's sender thread, after the send. */
    org.quicmigration.core.Tuple lastSentPath() {
        DatagramChannel channel = lastSentOn;
        org.quicmigration.core.Tuple tuple = channel == null ? null : tuples.get(channel);
        return tuple != null ? tuple : activePath();
    }

    /**
     * The path Kwik's datagram number {@code datagramNumber} arrived on; the active path if that is no longer
     * known (more than {@value #RECEIVED_RING} datagrams ago, or its path closed).
     */
    org.quicmigration.core.Tuple receivedPath(long datagramNumber) {
        DatagramChannel channel;
        int slot = (int) (Math.floorMod(datagramNumber, (long) RECEIVED_RING));
        synchronized (receivedOn) {
            channel = receivedNumber[slot] == datagramNumber ? receivedOn[slot] : null;
        }
        org.quicmigration.core.Tuple tuple = channel == null ? null : tuples.get(channel);
        return tuple != null ? tuple : activePath();
    }

    /**
     * The destination ID the path on {@code local} was last routed with, if that path is open and not the active
     * one (a path the connection left, still receiving until it closes); else null. Any thread.
     */
    byte[] leftPathId(InetSocketAddress local) {
        DatagramChannel channel = channels.get(local);
        if (channel == null || channel == active) {
            return null;
        }
        byte[] id = null;
        for (Route route : routes) {
            if (route.channel() == channel) {
                id = route.destination().bytes(); // the newest route of the path comes last
            }
        }
        return id;
    }

    private org.quicmigration.core.Tuple activePath() {
        org.quicmigration.core.Tuple tuple = tuples.get(active);
        return tuple != null ? tuple : new org.quicmigration.core.Tuple(activeLocal, server);
    }

    /** When the last datagram arrived on the active path, in System.nanoTime() terms; any thread. */
    long lastReceivedOnActiveNanos() {
        return lastReceivedOnActiveNanos;
    }

    /** The local address of the active path. */
    InetSocketAddress activeLocal() {
        return activeLocal;
    }

    boolean hasPath(InetSocketAddress local) {
        return channels.containsKey(local);
    }

    /** Lets {@link #send} seal validate-first challenges again (see {@link ProbeResealer}). */
    void resealProbesWith(ProbeResealer resealer) {
        this.resealer = resealer;
    }

    /**
     * The packet that left instead of {@code sent} if {@link #send} sealed it again, else {@code sent}; call on
     * Kwik's sender thread, after the send.
     */
    tech.kwik.core.packet.QuicPacket sentInstead(tech.kwik.core.packet.QuicPacket sent) {
        tech.kwik.core.packet.QuicPacket resealed = lastResealed;
        if (resealed != null && java.util.Objects.equals(resealed.getPacketNumber(), sent.getPacketNumber())) {
            lastResealed = null;
            return resealed;
        }
        return sent;
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        int length = packet.getLength();
        ProbeResealer probes = resealer;
        RoutedProbeFrame probe = probes == null ? null : RoutedProbeFrame.takeRoute();
        if (probe != null && probe.resealWith() != null) {
            ProbeResealer.Resealed resealed = probes.reseal(data, offset, length, destinationIdLength(data, offset),
                    probe, RoutedProbeFrame.MIN_PROBE_DATAGRAM);
            if (resealed != null) {
                data = resealed.datagram();
                offset = 0;
                length = data.length;
                lastResealed = resealed.packet();
            }
        }
        DatagramChannel channel = channelFor(data, offset, length);
        lastSentOn = channel;
        WireTrace tracing = trace;
        if (tracing != null) {
            traceSend(tracing, channel, data, offset, length);
        }
        synchronized (sendBuffer) {
            sendBuffer.clear();
            sendBuffer.put(data, offset, length).flip();
            try {
                counters.computeIfAbsent(channel, c -> new long[2])[0]++;
                channel.write(sendBuffer);
                if (!failedPaths.isEmpty() && failedPaths.remove(channel)) {
                    reportWorks(channel);
                }
            } catch (PortUnreachableException e) {
                onPortUnreachable.run();
            } catch (java.nio.channels.ClosedChannelException e) {
                // The path was closed after Kwik built this packet for it; like a datagram lost on a dead path,
                // it is declared lost and retransmitted on the active path.
            } catch (IOException e) {
                // The OS took the path away: its address was removed (EADDRNOTAVAIL), its route or link went
                // (ENETUNREACH, EHOSTUNREACH) or a firewall refused the datagram (EPERM). Kwik's sender closes the
                // whole connection on any exception, so the datagram counts as sent and lost instead: Kwik's loss
                // recovery resends its frames, on whichever path the connection uses by then (W18,
                // docs/kwik-workarounds.md#w18).
                reportFailed(channel, e);
            }
        }
    }

    private void reportFailed(DatagramChannel channel, IOException error) {
        if (failedPaths.add(channel)) {
            InetSocketAddress local = localOf(channel);
            LOG.log(System.Logger.Level.DEBUG, () -> "path on " + local + " failed: " + error);
            PathFailureListener listener = failureListener;
            if (listener != null && local != null) {
                listener.pathFailed(local, error);
            }
        }
    }

    private void reportWorks(DatagramChannel channel) {
        InetSocketAddress local = localOf(channel);
        PathFailureListener listener = failureListener;
        if (listener != null && local != null) {
            listener.pathWorks(local);
        }
    }

    private InetSocketAddress localOf(DatagramChannel channel) {
        org.quicmigration.core.Tuple tuple = tuples.get(channel);
        return tuple == null ? null : tuple.local();
    }

    private void traceSend(WireTrace tracing, DatagramChannel channel, byte[] data, int offset, int length) {
        ConnectionId destination = null;
        if (length > 0 && (data[offset] & 0x80) == 0) {
            for (Route route : routes) {
                if (route.destination().matches(data, offset + 1)) {
                    destination = route.destination();
                    break;
                }
            }
            if (destination == null) {
                // Unknown to the route table: report the bytes at the DCID position, with the usual length.
                int idLength = routes.length > 0 ? routes[0].destination().length() : 8;
                destination = ConnectionId.of(data, offset + 1, Math.min(idLength, length - 1));
            }
        }
        InetSocketAddress local = null;
        for (Map.Entry<InetSocketAddress, DatagramChannel> entry : channels.entrySet()) {
            if (entry.getValue() == channel) {
                local = entry.getKey();
            }
        }
        tracing.datagramSent(local, destination, length);
    }

    /** The length of the destination ID of the short-header packet at {@code offset}, from the route table. */
    private int destinationIdLength(byte[] data, int offset) {
        Route[] known = routes;
        for (Route route : known) {
            if (route.destination().matches(data, offset + 1)) {
                return route.destination().length();
            }
        }
        return known.length > 0 ? known[0].destination().length() : 8;
    }

    private DatagramChannel channelFor(byte[] data, int offset, int length) {
        if (length > 0 && (data[offset] & 0x80) == 0) {
            // Short header (RFC 9000 17.3): the destination connection ID starts right after the first byte.
            for (Route route : routes) {
                if (route.destination().matches(data, offset + 1)) {
                    return route.channel();
                }
            }
        }
        return active;
    }

    /** Kwik numbers the datagrams it receives; records which channel each arrived on (see {@link #receivedOn}). */
    private void countDelivered(DatagramChannel channel) {
        long number = ++delivered; // counted always: Kwik's numbering starts with the first datagram
        if (recordPaths || channels.size() > 1) { // with several paths, a challenge is answered on its own
            int slot = (int) (number % RECEIVED_RING);
            synchronized (receivedOn) {
                receivedOn[slot] = channel;
                receivedNumber[slot] = number;
            }
        }
    }

    /**
     * W6 (docs/kwik-workarounds.md#w6): until {@code ready} says so, {@link #receive} holds each datagram back from Kwik
     * (polling every 50 µs), for at most {@code maxWaitMillis} ms. Kwik's TLS engine (agent15 3.1) hands the ClientHello to Kwik's sender and only
     * then records that it waits for the ServerHello; a ServerHello processed in between is acknowledged and silently
     * ignored, so the server never resends it and the handshake times out. A fast peer on loopback (ngtcp2's
     * gtlsserver) got its answer in that window when a busy CPU paused the connecting thread: 9 of 300 handshakes
     * timed out with one core kept busy. Holding the first datagrams back until the engine waits for them closes the
     * window: 0 of 300.
     */
    void holdReceivedUntil(java.util.function.BooleanSupplier ready, long maxWaitMillis) {
        receiveGateDeadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
        receiveGate = ready;
    }

    /**
     * Hands Kwik the next datagram from any path; a datagram that starts with a Handshake packet comes as two, that
     * packet and the rest ({@link CoalescedRest}, W7: Kwik would drop the rest with the packet once its Handshake
     * keys are discarded). During the handshake it may wait first: see {@link #holdReceivedUntil}.
     */
    @Override
    public void receive(DatagramPacket packet) throws IOException {
        receiveNext(packet);
        java.util.function.BooleanSupplier gate = receiveGate;
        if (gate != null) {
            awaitGate(gate);
        }
    }

    private void awaitGate(java.util.function.BooleanSupplier gate) throws SocketException {
        while (!gate.getAsBoolean()) {
            if (closed) {
                throw new SocketException("socket closed");
            }
            if (System.nanoTime() - receiveGateDeadline > 0) {
                LOG.log(System.Logger.Level.WARNING, "the TLS engine did not start its handshake in time; "
                        + "handing Kwik the datagrams that came first anyway");
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
        receiveGate = null;
    }

    private void receiveNext(DatagramPacket packet) throws IOException {
        while (true) {
            if (closed) {
                throw new SocketException("socket closed");
            }
            DatagramChannel restOn = coalescedRest.takeInto(packet);
            if (restOn != null) {
                countDelivered(restOn);
                packet.setSocketAddress(server);
                return;
            }
            try {
                if (ready == null || !ready.hasNext()) {
                    registerPending();
                    selector.select();
                    selections++;
                    ready = selector.selectedKeys().iterator();
                    continue;
                }
                SelectionKey key = ready.next();
                ready.remove();
                if (!key.isValid()) {
                    continue;
                }
                DatagramChannel channel = (DatagramChannel) key.channel();
                receiveBuffer.clear();
                SocketAddress from;
                try {
                    from = channel.receive(receiveBuffer);
                } catch (PortUnreachableException e) {
                    onPortUnreachable.run();
                    continue;
                } catch (java.nio.channels.ClosedChannelException e) {
                    continue; // a path closed while its key was ready
                } catch (IOException e) {
                    // An ICMP error the kernel queued on this path's socket (host or network unreachable) surfaces
                    // here; it concerns that path only, never the connection, which Kwik's receiver would end (W18).
                    reportFailed(channel, e);
                    continue;
                }
                if (from == null) {
                    continue;
                }
                counters.computeIfAbsent(channel, c -> new long[2])[1]++;
                if (channel == active) {
                    lastReceivedOnActiveNanos = System.nanoTime();
                }
                receiveBuffer.flip();
                int length = Math.min(receiveBuffer.remaining(), packet.getData().length - packet.getOffset());
                receiveBuffer.get(packet.getData(), packet.getOffset(), length);
                packet.setLength(length);
                packet.setSocketAddress(server);
                coalescedRest.splitOff(packet, channel);
                countDelivered(channel);
                // The key's iterator may hold more ready channels; they are served by the next calls.
                return;
            } catch (ClosedSelectorException e) {
                throw new SocketException("socket closed");
            }
        }
    }

    private void registerPending() throws IOException {
        DatagramChannel channel;
        while ((channel = toRegister.poll()) != null) {
            if (channel.isOpen()) {
                channel.register(selector, SelectionKey.OP_READ);
            }
        }
    }

    private DatagramChannel openChannel(InetSocketAddress local, InetSocketAddress remote) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            channel.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            channel.bind(local);
            channel.connect(remote);
            channel.configureBlocking(false);
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            if (channels.putIfAbsent(bound, channel) != null) {
                throw new IOException("a path on " + bound + " is already open");
            }
            tuples.put(channel, new org.quicmigration.core.Tuple(bound, remote));
            toRegister.add(channel);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private DatagramChannel requireChannel(InetSocketAddress local) {
        DatagramChannel channel = channels.get(local);
        if (channel == null) {
            throw new IllegalArgumentException("no path on " + local);
        }
        return channel;
    }

    @Override
    public InetAddress getLocalAddress() {
        return activeLocal.getAddress();
    }

    @Override
    public int getLocalPort() {
        return activeLocal.getPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return activeLocal;
    }

    @Override
    public synchronized int getReceiveBufferSize() {
        return SOCKET_BUFFER_BYTES;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (DatagramChannel channel : channels.values()) {
            try {
                channel.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        channels.clear();
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
        super.close();
    }

    private static SocketException socketException(String message, Exception cause) {
        SocketException exception = new SocketException(message);
        exception.initCause(cause);
        return exception;
    }
}
