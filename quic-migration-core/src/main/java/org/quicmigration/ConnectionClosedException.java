package org.quicmigration;

import java.io.IOException;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A stream or connection operation failed because the connection is closed. Thrown by the streams of a
 * {@link MigratingConnection} and by its methods once the connection has ended, whichever side ended it.
 */
public final class ConnectionClosedException extends IOException {

    private static final long serialVersionUID = 1L;

    /** How the connection ended. */
    public enum Reason {
        /** The peer closed the connection (CONNECTION_CLOSE). */
        CLOSED_BY_PEER,
        /** This side closed the connection. */
        CLOSED_LOCALLY,
        /** Nothing arrived from the peer within the idle timeout. */
        IDLE_TIMEOUT,
        /** The peer lost the connection's state and answered with a stateless reset. */
        STATELESS_RESET,
        /** The QUIC engine gave up on the connection. */
        LOST,
        /**
         * The network under the connection went away (its address or link was removed, or sending failed) and no
         * other network came up before the idle timeout.
         */
        NO_USABLE_NETWORK
    }

    /** How the connection ended. */
    private final Reason reason;
    /** The CONNECTION_CLOSE error code, or -1 if there was none. */
    private final long errorCode;

    /**
     * Creates the exception.
     *
     * @param reason    how the connection ended
     * @param errorCode the error code from CONNECTION_CLOSE, or -1 if there was none
     * @param message   what happened
     */
    public ConnectionClosedException(Reason reason, long errorCode, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.errorCode = errorCode;
    }

    /** {@return how the connection ended; never null} */
    public Reason reason() {
        return reason;
    }

    /** {@return the error code the closing side gave (0 for a clean close), or empty if the connection ended without one} */
    public OptionalLong errorCode() {
        return errorCode < 0 ? OptionalLong.empty() : OptionalLong.of(errorCode);
    }
}
