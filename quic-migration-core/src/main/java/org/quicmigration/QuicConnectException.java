package org.quicmigration;

import java.io.IOException;
import java.util.Objects;

/**
 * A connection could not be established. {@link #reason()} says why, in terms a caller can act on; the message
 * names the server address and what was observed.
 */
public final class QuicConnectException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Why a connection attempt failed. */
    public enum Reason {
        /** Nothing listens on the server's UDP port: its host answered with ICMP "port unreachable". */
        UNREACHABLE,
        /** No handshake completed within the connect timeout: the server is silent, or packets are lost. */
        TIMEOUT,
        /** The server's certificate was not trusted, or did not match the server name. */
        CERTIFICATE_REJECTED,
        /** The server does not support the application protocol (ALPN) the client asked for. */
        APPLICATION_PROTOCOL_REJECTED,
        /** The server closed the connection during the handshake for another reason. */
        REFUSED,
        /**
         * The server's handshake broke QUIC's rules, for example with an invalid transport parameter; the client
         * closed the connection with the transport error RFC 9000 names for it.
         */
        PROTOCOL_VIOLATION,
        /** A local problem, such as a local address that cannot be bound. */
        LOCAL_ERROR
    }

    /** Why the attempt failed. */
    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason  why the attempt failed
     * @param message what happened, naming the server
     * @param cause   the underlying error, or null
     */
    public QuicConnectException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** {@return why the attempt failed; never null} */
    public Reason reason() {
        return reason;
    }
}
