package org.quicmigration;

import java.io.IOException;

import org.quicmigration.kwik.EngineExceptions;
import org.quicmigration.kwik.KwikConnection;
import org.quicmigration.kwik.Termination;

/**
 * Internal: what a stream operation of a connection throws when it fails. The connection's end becomes a
 * {@link ConnectionClosedException} with its reason; no exception type of the engine reaches the application.
 */
final class StreamFailures {

    private final KwikConnection connection;

    StreamFailures(KwikConnection connection) {
        this.connection = connection;
    }

    /** A stream's output whose failures are this library's exceptions, never the engine's. */
    final class PublicOutputStream extends java.io.FilterOutputStream {
        PublicOutputStream(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw publicException(e);
            }
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            try {
                out.write(buffer, offset, length);
            } catch (IOException e) {
                throw publicException(e);
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                throw publicException(e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                out.close();
            } catch (IOException e) {
                throw publicException(e);
            }
        }
    }

    /** The exception to throw instead of a stream failure caused by the connection ending, or null. */
    ConnectionClosedException closedExceptionBehind(IOException streamFailure) {
        Termination ended = connection.terminationBehind(streamFailure);
        if (ended == null) {
            return null;
        }
        ConnectionClosedException closed = closedException(ended);
        if (!EngineExceptions.fromEngine(streamFailure)) {
            closed.initCause(streamFailure);
        }
        return closed;
    }

    /**
     * What a stream operation throws for {@code failure}: a {@link ConnectionClosedException} if the connection
     * ended, else the failure itself, unless it is one of the engine's own types, which never reach the application
     * (an {@link IOException} of ours with the same message takes its place).
     */
    IOException publicException(IOException failure) {
        ConnectionClosedException closed = closedExceptionBehind(failure);
        if (closed != null) {
            return closed;
        }
        if (EngineExceptions.saysConnectionClosed(failure)) {
            // The engine ended the connection without telling how (Kwik aborts without a termination event).
            return new ConnectionClosedException(ConnectionClosedException.Reason.LOST, -1,
                    "connection ended: lost by the QUIC engine (" + failure.getMessage() + ")");
        }
        return EngineExceptions.fromEngine(failure) ? EngineExceptions.replace(failure) : failure;
    }

    static ConnectionClosedException closedException(Termination ended) {
        ConnectionClosedException.Reason reason = switch (ended.kind()) {
            case CLOSED -> ended.byPeer() ? ConnectionClosedException.Reason.CLOSED_BY_PEER
                    : ConnectionClosedException.Reason.CLOSED_LOCALLY;
            case IDLE_TIMEOUT -> ConnectionClosedException.Reason.IDLE_TIMEOUT;
            case STATELESS_RESET -> ConnectionClosedException.Reason.STATELESS_RESET;
            case LOST -> ConnectionClosedException.Reason.LOST;
            case NO_USABLE_NETWORK -> ConnectionClosedException.Reason.NO_USABLE_NETWORK;
        };
        return new ConnectionClosedException(reason, ended.errorCode(), "connection ended: " + ended);
    }
}
