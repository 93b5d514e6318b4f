package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Internal: {@link ServerPathSocket}'s merge mode, for a server with preferred addresses (RFC 9000 9.6). Kwik reads
 * one socket, so each socket gets a reader thread of its own ({@code quic-migration-server-receive <address>}),
 * and {@link #take} hands Kwik's server receive thread what they received, in arrival order, through a bounded
 * queue of reusable buffers, each with the local address its datagram arrived on. No allocation per datagram
 * while the queue has room.
 */
final class ServerArrivals {

    private static final System.Logger LOG = System.getLogger(ServerPathSocket.class.getName());
    /** Datagrams received but not yet taken by Kwik, when reading several sockets; more are dropped. */
    private static final int MERGE_QUEUE_DATAGRAMS = 1024;
    /** Larger than any QUIC datagram Kwik accepts (its receive buffer is 1500 bytes). */
    private static final int MAX_DATAGRAM = 2048;

    /** Filled by the reader threads, drained by {@link #take}. */
    private final ArrayBlockingQueue<Arrival> arrivals;
    private final ArrayBlockingQueue<Arrival> freeArrivals;
    private volatile boolean closed;
    private final AtomicLong mergeDropped = new AtomicLong();

    /** A reusable receive buffer, with the local address its datagram arrived on. */
    private static final class Arrival {
        final DatagramPacket packet = new DatagramPacket(new byte[MAX_DATAGRAM], MAX_DATAGRAM);
        InetSocketAddress local;
    }

    /** One socket's blocking receive. */
    interface Source {
        void into(DatagramPacket packet) throws IOException;
    }

    /** @param readers how many sockets will be read (each may hold one buffer beyond the queue) */
    ServerArrivals(int readers) {
        arrivals = new ArrayBlockingQueue<>(MERGE_QUEUE_DATAGRAMS);
        freeArrivals = new ArrayBlockingQueue<>(MERGE_QUEUE_DATAGRAMS + readers);
        for (int i = 0; i < MERGE_QUEUE_DATAGRAMS; i++) {
            freeArrivals.add(new Arrival());
        }
    }

    /** Datagrams the merge queue had no room for (Kwik fell behind), for diagnostics. */
    long dropped() {
        return mergeDropped.get();
    }

    /** Starts the reader thread of the socket bound to {@code local}. */
    void startReader(Source receive, InetSocketAddress local) {
        Thread reader = new Thread(() -> {
            Arrival spare = null;
            while (!closed) {
                Arrival arrival = spare != null ? spare : freeArrivals.poll();
                spare = null;
                if (arrival == null) {
                    arrival = new Arrival(); // all buffers queued: receive anyway, and drop below
                }
                arrival.packet.setLength(MAX_DATAGRAM);
                try {
                    receive.into(arrival.packet);
                } catch (IOException e) {
                    if (!closed) {
                        LOG.log(System.Logger.Level.WARNING,
                                "receiving on " + local + " failed; no longer reading it", e);
                    }
                    return;
                }
                arrival.local = local;
                if (!arrivals.offer(arrival)) {
                    mergeDropped.incrementAndGet(); // as a full kernel buffer would: QUIC recovers
                    spare = arrival;
                }
            }
        }, "quic-migration-server-receive " + local);
        reader.setDaemon(true);
        reader.start();
    }

    /** Copies the next received datagram into {@code packet}; returns the address it arrived on. */
    InetSocketAddress take(DatagramPacket packet, int capacity) throws IOException {
        Arrival arrival;
        try {
            arrival = arrivals.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SocketException("interrupted while receiving");
        }
        InetSocketAddress local = arrival.local;
        if (local == null || closed) {
            arrivals.offer(arrival); // wake any other caller too
            throw new SocketException("Socket is closed");
        }
        int length = Math.min(capacity, arrival.packet.getLength());
        System.arraycopy(arrival.packet.getData(), 0, packet.getData(), packet.getOffset(), length);
        packet.setLength(length);
        packet.setSocketAddress(arrival.packet.getSocketAddress());
        freeArrivals.offer(arrival);
        return local;
    }

    /** The sockets are about to close: the readers stop, without a warning for the error that ends them. */
    void closing() {
        closed = true;
    }

    /** The sockets are closed: wakes a {@link #take} waiting for datagrams. */
    void closed() {
        arrivals.clear();
        arrivals.offer(new Arrival()); // local null means closed
    }
}
