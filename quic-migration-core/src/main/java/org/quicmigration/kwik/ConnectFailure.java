package org.quicmigration.kwik;

import java.io.IOException;

/**
 * Internal: a failed connection attempt, classified from what Kwik reported. The public API turns it into its
 * own typed exception.
 */
public final class ConnectFailure extends IOException {

    /** What went wrong, from the point of view of a user who cannot see the wire. */
    public enum Kind {
        /** The peer's host answered with ICMP port unreachable: nothing listens on that UDP port. */
        UNREACHABLE,
        /** No complete handshake within the connect timeout. */
        TIMEOUT,
        /** Our side rejected the server's certificate, or the server rejected ours. */
        CERTIFICATE_REJECTED,
        /** The server supports none of the application protocols (ALPN) we offered. */
        APPLICATION_PROTOCOL_REJECTED,
        /** The server closed the connection during the handshake for another reason. */
        REFUSED,
        /** The server's handshake broke QUIC's rules (an invalid transport parameter); we closed the connection. */
        PROTOCOL_VIOLATION,
        /** A local problem: the socket could not be opened or the engine failed. */
        LOCAL_ERROR
    }

    private final Kind kind;

    ConnectFailure(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
