package org.quicmigration;

/**
 * How {@link MigratingConnection#migrate(java.net.InetSocketAddress, MigrationStrategy)} moves a connection.
 */
public enum MigrationStrategy {

    /**
     * Move at once and validate the new path in the background; return to the old path if it does not answer.
     * The right choice when the old network is gone or going (the default): nothing waits for a round trip on a
     * network that may no longer deliver. Until the new path is validated the server may send there only three
     * times what it received there (RFC 9000 8), so a download slows for about one round trip after the move.
     */
    SWITCH_THEN_VALIDATE,

    /**
     * Probe the new path first and move only once it answered (RFC 9000 9.1), while data keeps flowing on the old
     * path. The right choice when the old network still works, for example when a better one appeared: the move
     * costs the application almost nothing. If the new path does not answer, the connection never left the old
     * one. Needs the old path to work: with the old network dead, data stops until the probe is answered, as with
     * {@link #SWITCH_THEN_VALIDATE}.
     */
    VALIDATE_THEN_SWITCH
}
