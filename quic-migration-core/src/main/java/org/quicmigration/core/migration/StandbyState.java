package org.quicmigration.core.migration;

/** Where a client's standby path stands (see {@link ClientMigrator#addStandby}). */
public enum StandbyState {
    /** Probed, not answered yet. */
    PROBING,
    /** Answered its last probe: a move to it needs no validation first. */
    READY,
    /** Did not answer its last probe in time, or its socket failed; it is probed again at the interval. */
    FAILED,
    /** The connection moved to it: it is the active path now, and no longer a standby. */
    IN_USE,
    /** Given up: removed by the application, or its connection ID was retired with no replacement. */
    REMOVED
}
