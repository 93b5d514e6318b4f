package org.quicmigration.core.migration;

/** Why a migration cannot start; nothing has been sent when one of these is reported. */
public enum MigrationRefusal {
    /** RFC 9000 9: "An endpoint MUST NOT initiate connection migration before the handshake is confirmed". */
    HANDSHAKE_NOT_CONFIRMED,
    /**
     * RFC 9000 18.2 (disable_active_migration): "the endpoint MUST NOT use a new local address when sending to
     * the address that the peer used during the handshake".
     */
    PEER_DISABLED_MIGRATION,
    /** RFC 9000 9.5: the new path needs a peer connection ID no other path uses, and the peer gave no spare. */
    NO_SPARE_CONNECTION_ID,
    /** Another migration of this connection has not finished. */
    MIGRATION_IN_PROGRESS,
    /** The connection has a standby path already (one at a time: it holds the spare connection ID). */
    STANDBY_EXISTS
}
