package org.quicmigration.core.migration;

/** Why a migration started. */
public enum MigrationCause {
    /** The application called migrate. */
    APPLICATION,
    /** The local address of the active path disappeared, or its interface went down. */
    NETWORK_LOST,
    /** Sending on the active path failed (no route, address gone, refused by a firewall). */
    WRITE_ERROR,
    /** The active path stopped delivering: several probe timeouts in a row without an acknowledgement. */
    PATH_DEGRADING,
    /** A network the policy prefers to the active one is usable again. */
    PREFERRED_NETWORK_BACK,
    /** The server offered a preferred_address (RFC 9000 9.6). */
    SERVER_PREFERRED_ADDRESS,
    /** On a server: the client appeared at a new address (it moved, or a NAT rebound it). */
    PEER_MOVED
}
