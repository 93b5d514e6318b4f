package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Internal: the receiving half of {@link ClientPathSocket}: one selector over every path's channel, the datagrams it
 * hands Kwik (all as coming from the server address Kwik knows), and which path each arrived on. Kwik's receiver
 * thread is the only caller of {@link #receive}; channels are registered, and the selector woken, from the thread
 * that opens or closes a path; {@link #channelOf} is called on any thread. No allocation per datagram.
 */
final class PathReceiver {

    private static final System.Logger LOG = System.getLogger(ClientPathSocket.class.getName());
    private static final int BUFFER_SIZE = 65_536;
    /**
     * The channels the last {@value #RECEIVED_RING} datagrams arrived on, by Kwik's datagram number (Kwik numbers
     * the datagrams it processes 1, 2, 3... in the order they are handed over), so a packet trace can tell
     * the path of a received packet although Kwik parses it on another thread, later.
     */
    static final int RECEIVED_RING = 256;

    private final ClientPathSocket socket;
    private final InetSocketAddress server;
    private final Runnable onPortUnreachable;
    private final Selector selector;
    /** Selection operations completed; each one releases the sockets of the channels closed before it. */
    private volatile long selections;
    private final ConcurrentLinkedQueue<DatagramChannel> toRegister = new ConcurrentLinkedQueue<>();
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private Iterator<SelectionKey> ready;
    /** While set, received datagrams wait for it to say true ({@link #holdReceivedUntil}); then it is cleared. */
    private volatile java.util.function.BooleanSupplier receiveGate;
    private volatile long receiveGateDeadline;
    private final DatagramChannel[] receivedOn = new DatagramChannel[RECEIVED_RING];
    private final long[] receivedNumber = new long[RECEIVED_RING];
    private long delivered;
    /** The rest of a datagram after its Handshake packet, for the next {@link #receive}; receiving thread only. */
    private final CoalescedRest<DatagramChannel> coalescedRest = new CoalescedRest<>();
    /**
     * Whether a packet observer wants {@link #channelOf}; without one, receiving records paths only while there
     * are several (a PATH_CHALLENGE is answered on the path it came on).
     */
    private volatile boolean recordPaths;
    /** When the last datagram arrived on the active path (System.nanoTime()); receiving thread writes it. */
    private volatile long lastReceivedOnActiveNanos = System.nanoTime();

    /**
     * @param socket the socket this receives for: its paths, its active one, its counters and its failures
     * @throws IOException if no selector can be opened
     */
    PathReceiver(ClientPathSocket socket, InetSocketAddress server, Runnable onPortUnreachable) throws IOException {
        this.socket = socket;
        this.server = server;
        this.onPortUnreachable = onPortUnreachable;
        this.selector = Selector.open();
    }

    /** Has the receiving thread register {@code channel} before its next selection. */
    void register(DatagramChannel channel) {
        toRegister.add(channel);
    }

    /** Makes the receiving thread's selection return, to register new channels or release closed ones. */
    void wakeup() {
        selector.wakeup();
    }

    /** Selection operations completed so far; any thread. */
    long selections() {
        return selections;
    }

    /** Starts or stops remembering which path each received datagram came on (for packet observers). */
    void recordPaths(boolean record) {
        this.recordPaths = record;
    }

    /** When the last datagram arrived on the active path, in System.nanoTime() terms; any thread. */
    long lastReceivedOnActiveNanos() {
        return lastReceivedOnActiveNanos;
    }

    /**
     * The channel Kwik's datagram number {@code datagramNumber} arrived on, or null if that is no longer known (more
     * than {@value #RECEIVED_RING} datagrams ago); any thread.
     */
    DatagramChannel channelOf(long datagramNumber) {
        int slot = (int) (Math.floorMod(datagramNumber, (long) RECEIVED_RING));
        synchronized (receivedOn) {
            return receivedNumber[slot] == datagramNumber ? receivedOn[slot] : null;
        }
    }

    /** Kwik numbers the datagrams it receives; records which channel each arrived on (see {@link #receivedOn}). */
    private void countDelivered(DatagramChannel channel) {
        long number = ++delivered; // counted always: Kwik's numbering starts with the first datagram
        if (recordPaths || socket.hasSeveralPaths()) { // with several paths, a challenge is answered on its own
            int slot = (int) (number % RECEIVED_RING);
            synchronized (receivedOn) {
                receivedOn[slot] = channel;
                receivedNumber[slot] = number;
            }
        }
    }

    /**
     * W6 (docs/kwik-workarounds.md#w6): until {@code ready} says so, {@link #receive} holds each datagram back from
     * Kwik (polling every 50 µs), for at most {@code maxWaitMillis} ms. Kwik's TLS engine (agent15 3.1) hands the
     * ClientHello to Kwik's sender and only then records that it waits for the ServerHello; a ServerHello processed
     * in between is acknowledged and silently ignored, so the server never resends it and the handshake times out. A
     * fast peer on loopback (ngtcp2's gtlsserver) gets its answer in that window when a busy CPU pauses the
     * connecting thread. Holding the first datagrams back until the engine waits for them closes the window
     * (docs/kwik-workarounds.md#w6 has the measurements).
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
    void receive(DatagramPacket packet) throws IOException {
        receiveNext(packet);
        java.util.function.BooleanSupplier gate = receiveGate;
        if (gate != null) {
            awaitGate(gate);
        }
    }

    private void awaitGate(java.util.function.BooleanSupplier gate) throws SocketException {
        while (!gate.getAsBoolean()) {
            if (socket.isClosed()) {
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
            if (socket.isClosed()) {
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
                if (key.isValid() && receiveFrom((DatagramChannel) key.channel(), packet)) {
                    // The key's iterator may hold more ready channels; they are served by the next calls.
                    return;
                }
            } catch (ClosedSelectorException e) {
                throw new SocketException("socket closed");
            }
        }
    }

    /** Receives from {@code channel} into {@code packet}; false if nothing came (or only an error). */
    private boolean receiveFrom(DatagramChannel channel, DatagramPacket packet) {
        receiveBuffer.clear();
        SocketAddress from;
        try {
            from = channel.receive(receiveBuffer);
        } catch (PortUnreachableException e) {
            onPortUnreachable.run();
            return false;
        } catch (java.nio.channels.ClosedChannelException e) {
            return false; // a path closed while its key was ready
        } catch (IOException e) {
            // An ICMP error the kernel queued on this path's socket (host or network unreachable) surfaces
            // here; it concerns that path only, never the connection, which Kwik's receiver would end (W18).
            socket.receiveFailed(channel, e);
            return false;
        }
        if (from == null) {
            return false;
        }
        socket.countReceived(channel);
        if (socket.isActive(channel)) {
            lastReceivedOnActiveNanos = System.nanoTime();
        }
        receiveBuffer.flip();
        int length = Math.min(receiveBuffer.remaining(), packet.getData().length - packet.getOffset());
        receiveBuffer.get(packet.getData(), packet.getOffset(), length);
        packet.setLength(length);
        packet.setSocketAddress(server);
        coalescedRest.splitOff(packet, channel);
        countDelivered(channel);
        return true;
    }

    private void registerPending() throws IOException {
        DatagramChannel channel;
        while ((channel = toRegister.poll()) != null) {
            if (channel.isOpen()) {
                channel.register(selector, SelectionKey.OP_READ);
            }
        }
    }

    /** Closes the selector; a {@link #receive} waiting in it ends with a SocketException. */
    void close() {
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
