package org.quicmigration.core.migration;

/** How a client moves to a new path. */
public enum MigrationMode {
    /**
     * Send everything on the new path at once and validate it in the background; go back to the old path if
     * validation fails. The shortest stall: data keeps flowing while the challenge is answered (RFC 9000 9.2
     * allows sending non-probing packets to an unvalidated peer address the client chose).
     */
    SWITCH_THEN_VALIDATE,
    /**
     * Probe the new path first and move application data only after it is validated (RFC 9000 9.1). Safer on
     * networks that may be black holes; stalls for at least one round trip of the new path.
     */
    VALIDATE_THEN_SWITCH
}
