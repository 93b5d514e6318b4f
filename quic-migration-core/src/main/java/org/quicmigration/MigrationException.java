package org.quicmigration;

import java.io.IOException;
import java.util.Objects;

/**
 * A migration did not happen. {@link #reason()} says why; the connection is still usable on its previous path
 * unless the reason is {@link Reason#CONNECTION_CLOSED}.
 */
public final class MigrationException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Why a migration did not happen. */
    public enum Reason {
        /**
         * RFC 9000 9: a client must not migrate before the handshake is confirmed; a migration asked for before it
         * is waits for it up to 3 s.
         */
        HANDSHAKE_NOT_CONFIRMED,
        /** The server sent disable_active_migration (RFC 9000 18.2). */
        PEER_DISABLED_MIGRATION,
        /** The server has given no spare connection ID for a new path (RFC 9000 9.5); retry after a moment. */
        NO_SPARE_CONNECTION_ID,
        /** The new path never answered the PATH_CHALLENGE in time; the connection went back to the old path. */
        VALIDATION_TIMED_OUT,
        /** The local address cannot be bound (not configured on this host, or in use). */
        ADDRESS_UNUSABLE,
        /** Another migration of this connection is still running. */
        MIGRATION_IN_PROGRESS,
        /** The connection keeps a standby path already ({@link MigratingConnection#addStandbyPath}: one at a time). */
        STANDBY_EXISTS,
        /** The connection closed before the migration finished. */
        CONNECTION_CLOSED
    }

    /** Why the migration did not happen. */
    private final Reason reason;
    private final transient NetworkPath fallbackPath;

    /**
     * Creates the exception for a migration that never left its path.
     *
     * @param reason  why the migration did not happen
     * @param message what happened, naming the path or address involved
     * @param cause   the underlying error, or null
     */
    public MigrationException(Reason reason, String message, Throwable cause) {
        this(reason, message, cause, null);
    }

    /**
     * Creates the exception.
     *
     * @param reason       why the migration did not happen
     * @param message      what happened, naming the path or address involved
     * @param cause        the underlying error, or null
     * @param fallbackPath the path the connection went back to after trying the new one, or null if it never left
     */
    public MigrationException(Reason reason, String message, Throwable cause, NetworkPath fallbackPath) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.fallbackPath = fallbackPath;
    }

    /** {@return why the migration did not happen; never null} */
    public Reason reason() {
        return reason;
    }

    /**
     * The path the connection fell back to: present when it had already moved to the new path and came back
     * because validation timed out ({@link Reason#VALIDATION_TIMED_OUT}); empty when it never left its path.
     *
     * @return the path fallen back to, or empty
     */
    public java.util.Optional<NetworkPath> fallbackPath() {
        return java.util.Optional.ofNullable(fallbackPath);
    }
}
