package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;

import org.quicmigration.kwik.ConnectionEndedException;
import org.quicmigration.kwik.KwikConnection;
import org.quicmigration.kwik.KwikStream;
import org.quicmigration.kwik.Termination;

/**
 * An established QUIC connection, client or server side. Open streams with {@link #openStream()}, take the
 * peer's with {@link #acceptStream(Duration)}, and {@link #close()} when done.
 *
 * <p>Thread-safe. Once the connection has ended, every operation throws {@link ConnectionClosedException}.
 */
public final class MigratingConnection implements AutoCloseable {

    private final KwikConnection connection;

    MigratingConnection(KwikConnection connection) {
        this.connection = connection;
    }

    /**
     * Opens a new bidirectional stream. Nothing is sent until the first write.
     *
     * @throws ConnectionClosedException if the connection has ended
     * @throws IOException if the peer's stream limit is reached and no stream becomes available
     */
    public BidirectionalStream openStream() throws IOException {
        try {
            return new BidirectionalStream(connection.openStream(), this);
        } catch (ConnectionEndedException e) {
            throw closedException(e.termination());
        }
    }

    /**
     * Waits for the next bidirectional stream the peer opens.
     *
     * @param timeout how long to wait
     * @return the stream
     * @throws SocketTimeoutException if no stream arrived in time
     * @throws ConnectionClosedException if the connection ended
     * @throws InterruptedException if the calling thread was interrupted
     */
    public BidirectionalStream acceptStream(Duration timeout) throws IOException, InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        try {
            KwikStream stream = connection.acceptStream(timeout);
            if (stream == null) {
                throw new SocketTimeoutException("no stream from " + peerAddress() + " within " + timeout.toMillis() + " ms");
            }
            return new BidirectionalStream(stream, this);
        } catch (ConnectionEndedException e) {
            throw closedException(e.termination());
        }
    }

    /** The local address this connection sends from. */
    public InetSocketAddress localAddress() {
        return connection.localAddress();
    }

    /** The peer's address. */
    public InetSocketAddress peerAddress() {
        return connection.peerAddress();
    }

    /** True until the connection ends, by either side. */
    public boolean isOpen() {
        return connection.termination() == null;
    }

    /**
     * Closes the connection cleanly (CONNECTION_CLOSE with NO_ERROR). Data not yet acknowledged may be lost:
     * close streams and wait for the peer's answer first when that matters. Idempotent; returns without
     * waiting for the peer.
     */
    @Override
    public void close() {
        if (isOpen()) {
            connection.close();
        }
    }

    /**
     * Closes the connection with an application error code and a reason phrase the peer will see.
     */
    public void close(long applicationErrorCode, String reason) {
        if (isOpen()) {
            connection.close(applicationErrorCode, Objects.requireNonNull(reason, "reason"));
        }
    }

    /**
     * Returns the underlying engine object for features this API does not offer. Today the engine is Kwik and
     * the object a {@code tech.kwik.core.QuicConnection}; code that uses it is tied to the Kwik version.
     *
     * @throws IllegalArgumentException if the engine object is not of the requested type
     */
    public <T> T unwrap(Class<T> type) {
        Object engine = connection.kwikConnection();
        if (!type.isInstance(engine)) {
            throw new IllegalArgumentException("the engine connection is a " + engine.getClass().getName()
                    + ", not a " + type.getName());
        }
        return type.cast(engine);
    }

    @Override
    public String toString() {
        return "MigratingConnection[" + localAddress() + " <-> " + peerAddress() + (isOpen() ? "" : ", closed") + "]";
    }

    /** Work-arounds the engine needed so far (lost send requests restored, credit frames re-sent); for tests. */
    long[] stallGuardCounters() {
        return new long[]{connection.sendRequestsRestored(), connection.creditReadvertised()};
    }

    /** The engine's send-side state, for stall reports in tests. */
    String describeSendSide() {
        return connection.describeSendSide();
    }

    /** The exception to throw instead of a stream failure caused by the connection ending, or null. */
    ConnectionClosedException closedExceptionBehind(IOException streamFailure) {
        Termination ended = connection.terminationBehind(streamFailure);
        if (ended == null) {
            return null;
        }
        ConnectionClosedException closed = closedException(ended);
        closed.initCause(streamFailure);
        return closed;
    }

    private static ConnectionClosedException closedException(Termination ended) {
        ConnectionClosedException.Reason reason = switch (ended.kind()) {
            case CLOSED -> ended.byPeer() ? ConnectionClosedException.Reason.CLOSED_BY_PEER
                    : ConnectionClosedException.Reason.CLOSED_LOCALLY;
            case IDLE_TIMEOUT -> ConnectionClosedException.Reason.IDLE_TIMEOUT;
            case STATELESS_RESET -> ConnectionClosedException.Reason.STATELESS_RESET;
            case LOST -> ConnectionClosedException.Reason.LOST;
        };
        return new ConnectionClosedException(reason, ended.errorCode(), "connection " + ended);
    }
}
