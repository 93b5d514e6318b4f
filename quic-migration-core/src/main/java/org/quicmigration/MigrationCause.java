package org.quicmigration;

/** Why a connection started moving to a new path. */
public enum MigrationCause {
    /** The application called {@link MigratingConnection#migrate}. */
    APPLICATION,
    /** The active path's local address disappeared or its interface went down ({@link MigrationPolicy}). */
    NETWORK_LOST,
    /** Sending on the active path failed: no route, address gone, refused by a firewall ({@link MigrationPolicy}). */
    WRITE_ERROR,
    /** The active path stopped delivering: nothing arrived for several probe timeouts while a packet was in flight ({@link MigrationPolicy}). */
    PATH_DEGRADING,
    /** A network the policy prefers to the active one is usable again ({@link MigrationPolicy}). */
    PREFERRED_NETWORK_BACK,
    /** The server offered a preferred_address (RFC 9000 9.6) and the client followed it. */
    SERVER_PREFERRED_ADDRESS,
    /** On a server: the client appeared at a new address, because it moved or a NAT rebound it. */
    PEER_MOVED;

    static MigrationCause of(org.quicmigration.core.migration.MigrationCause cause) {
        return valueOf(cause.name());
    }
}
