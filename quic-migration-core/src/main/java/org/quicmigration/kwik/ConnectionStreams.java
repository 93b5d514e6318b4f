package org.quicmigration.kwik;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.QuicStream;
import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Internal: a {@link KwikConnection}'s streams: those it opens, and the bidirectional ones the peer opens, queued
 * until accepted; each one's retransmissions are ordered ({@link KwikStreams#orderRetransmissions}). Thread-safe:
 * Kwik's receiver thread queues the peer's streams, application threads open and accept.
 */
final class ConnectionStreams {

    private static final Object TERMINATED = new Object();

    private final QuicConnectionImpl connection;
    private final DeclaredLosses declaredLosses;
    private final ConnectionEnd end;
    private final LinkedBlockingQueue<Object> acceptedStreams = new LinkedBlockingQueue<>();

    ConnectionStreams(QuicConnectionImpl connection, DeclaredLosses declaredLosses, ConnectionEnd end) {
        this.connection = connection;
        this.declaredLosses = declaredLosses;
        this.end = end;
    }

    /** Called on Kwik's receiver thread for every stream the peer opens; never blocks. */
    void peerOpened(QuicStream stream) {
        if (stream.isBidirectional()) {
            KwikStreams.orderRetransmissions(stream, declaredLosses);
            acceptedStreams.add(new KwikStream(stream));
        }
        // Unidirectional streams from the peer are left unread: the public API offers bidirectional streams only.
        // A client allows the server three of them, because HTTP/3 servers (ngtcp2's among them) open their control
        // and QPACK streams at once and fail the handshake if they cannot; the flow-control window bounds what
        // they can buffer here.
    }

    /** The connection ended: whoever waits for a stream, now or later, is told so once the queued ones are taken. */
    void ended() {
        acceptedStreams.add(TERMINATED);
    }

    /** Opens a stream; fails with {@link ConnectionEndedException} if the connection has ended. */
    QuicStream open(boolean bidirectional) throws IOException {
        Termination ended = end.termination();
        if (ended != null) {
            throw new ConnectionEndedException(ended);
        }
        try {
            QuicStream stream = connection.createStream(bidirectional);
            KwikStreams.orderRetransmissions(stream, declaredLosses);
            return stream;
        } catch (IOException e) {
            ended = end.termination();
            throw ended != null ? new ConnectionEndedException(ended) : e;
        }
    }

    /**
     * Waits for the next stream the peer opened.
     *
     * @return the stream, or null when the timeout elapsed first
     * @throws ConnectionEndedException if the connection ended (queued streams are handed out first)
     */
    KwikStream accept(Duration timeout) throws IOException, InterruptedException {
        Object next = acceptedStreams.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (next == TERMINATED) {
            acceptedStreams.add(TERMINATED); // every later caller sees the end too
            throw new ConnectionEndedException(end.termination());
        }
        return (KwikStream) next;
    }
}
