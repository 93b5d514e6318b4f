package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 * Connected channels let the kernel report ICMP "port unreachable", which fails a handshake fast. The sending half
 * is {@link PathSender}, the receiving half {@link PathReceiver}, the route table {@link PathRoutes}, and the paths
 * whose socket failed {@link PathFailures}.
 *
 * <p>Kwik's receiver thread is the only caller of {@link #receive}, Kwik's sender thread the only caller of
 * {@link #send}; path changes come from the migration thread. No allocation per datagram.
 */
final class ClientPathSocket extends DatagramSocket {

    private static final int SOCKET_BUFFER_BYTES = 4 << 20;

    private final InetSocketAddress server;
    private final PathReceiver receiver;
    private final Map<InetSocketAddress, DatagramChannel> channels = new ConcurrentHashMap<>();
    private final PathRoutes routes = new PathRoutes();
    private volatile DatagramChannel active;
    private volatile InetSocketAddress activeLocal;
    private volatile boolean closed;
    private final Map<DatagramChannel, long[]> counters = new ConcurrentHashMap<>();
    /** Each path's addresses, for packet traces. */
    private final Map<DatagramChannel, org.quicmigration.core.Tuple> tuples = new ConcurrentHashMap<>();
    private final PathFailures failures = new PathFailures(this::localOf);
    private final PathSender sender;

    ClientPathSocket(InetSocketAddress local, InetSocketAddress server, Runnable onPortUnreachable) throws SocketException {
        super((SocketAddress) null);
        this.server = server;
        this.sender = new PathSender(this, routes, failures, onPortUnreachable);
        try {
            this.receiver = new PathReceiver(this, server, onPortUnreachable);
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
            receiver.wakeup();
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
        routes.route(destination, channel, local);
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
        long before = receiver.selections();
        removePath(local);
        long deadline = System.nanoTime() + 200_000_000L;
        while (receiver.selections() == before && System.nanoTime() < deadline && !closed) {
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
        failures.forget(channel);
        routes.forget(channel);
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do: the path is gone either way
        }
        receiver.wakeup();
    }

    void trace(WireTrace trace) {
        sender.trace(trace);
    }

    void onPathFailure(PathFailures.Listener listener) {
        failures.listener(listener);
    }

    /** Per path: datagrams sent and received, for diagnostics. */
    String describe() {
        StringBuilder text = new StringBuilder("active " + activeLocal + "; routes " + routes.size());
        for (Map.Entry<InetSocketAddress, DatagramChannel> entry : channels.entrySet()) {
            long[] count = counters.getOrDefault(entry.getValue(), new long[2]);
            text.append("; path ").append(entry.getKey()).append(" sent ").append(count[0]).append(" received ").append(count[1]);
        }
        return text.toString();
    }

    /** Starts or stops remembering which path each received datagram came on (for packet observers). */
    void recordPaths(boolean record) {
        receiver.recordPaths(record);
    }

    /** The path the last datagram was sent on; call on Kwik's sender thread, after the send. */
    org.quicmigration.core.Tuple lastSentPath() {
        return pathOf(sender.lastSentOn());
    }

    /**
     * The path Kwik's datagram number {@code datagramNumber} arrived on; the active path if that is no longer
     * known (more than {@value PathReceiver#RECEIVED_RING} datagrams ago, or its path closed).
     */
    org.quicmigration.core.Tuple receivedPath(long datagramNumber) {
        return pathOf(receiver.channelOf(datagramNumber));
    }

    /** The addresses of {@code channel}'s path; the active path's if it is null or closed. */
    private org.quicmigration.core.Tuple pathOf(DatagramChannel channel) {
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
        return routes.newestIdOf(channel);
    }

    private org.quicmigration.core.Tuple activePath() {
        org.quicmigration.core.Tuple tuple = tuples.get(active);
        return tuple != null ? tuple : new org.quicmigration.core.Tuple(activeLocal, server);
    }

    /** When the last datagram arrived on the active path, in System.nanoTime() terms; any thread. */
    long lastReceivedOnActiveNanos() {
        return receiver.lastReceivedOnActiveNanos();
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
        sender.resealProbesWith(resealer);
    }

    /**
     * The packet that left instead of {@code sent} if {@link #send} sealed it again, else {@code sent}; call on
     * Kwik's sender thread, after the send.
     */
    tech.kwik.core.packet.QuicPacket sentInstead(tech.kwik.core.packet.QuicPacket sent) {
        return sender.sentInstead(sent);
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        sender.send(packet);
    }

    /** Kwik's sender thread: a datagram is about to leave on {@code channel}. */
    void countSent(DatagramChannel channel) {
        counters.computeIfAbsent(channel, c -> new long[2])[0]++;
    }

    /** The channel of the active path. */
    DatagramChannel activeChannel() {
        return active;
    }

    /** Kwik's receiver thread: a receive on {@code channel} failed (see {@link PathReceiver}). */
    void receiveFailed(DatagramChannel channel, IOException error) {
        failures.failed(channel, error);
    }

    /** Kwik's receiver thread: a datagram arrived on {@code channel}. */
    void countReceived(DatagramChannel channel) {
        counters.computeIfAbsent(channel, c -> new long[2])[1]++;
    }

    boolean isActive(DatagramChannel channel) {
        return channel == active;
    }

    /** Whether more than one path is open (then each received datagram's path is remembered). */
    boolean hasSeveralPaths() {
        return channels.size() > 1;
    }

    private InetSocketAddress localOf(DatagramChannel channel) {
        org.quicmigration.core.Tuple tuple = tuples.get(channel);
        return tuple == null ? null : tuple.local();
    }

    /** The local address {@code channel}'s path is open on, for traces; null once it is closed. */
    InetSocketAddress boundAddressOf(DatagramChannel channel) {
        InetSocketAddress local = null;
        for (Map.Entry<InetSocketAddress, DatagramChannel> entry : channels.entrySet()) {
            if (entry.getValue() == channel) {
                local = entry.getKey();
            }
        }
        return local;
    }

    /**
     * W6 (docs/kwik-workarounds.md#w6): until {@code ready} says so, {@link #receive} holds each datagram back from
     * Kwik, for at most {@code maxWaitMillis} ms; why, see {@link PathReceiver#holdReceivedUntil}.
     */
    void holdReceivedUntil(java.util.function.BooleanSupplier ready, long maxWaitMillis) {
        receiver.holdReceivedUntil(ready, maxWaitMillis);
    }

    /**
     * Hands Kwik the next datagram from any path; a datagram that starts with a Handshake packet comes as two, that
     * packet and the rest ({@link CoalescedRest}, W7: Kwik would drop the rest with the packet once its Handshake
     * keys are discarded). During the handshake it may wait first: see {@link #holdReceivedUntil}.
     */
    @Override
    public void receive(DatagramPacket packet) throws IOException {
        receiver.receive(packet);
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
            receiver.register(channel);
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
        receiver.close();
        super.close();
    }

    private static SocketException socketException(String message, Exception cause) {
        SocketException exception = new SocketException(message);
        exception.initCause(cause);
        return exception;
    }
}
