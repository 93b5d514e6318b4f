package org.quicmigration.core.migration;

/**
 * The states of qlog's {@code migration_state_updated} event (draft-ietf-quic-qlog-quic-events-13).
 */
public enum MigrationState {
    PROBING_STARTED("probing_started"),
    PROBING_ABANDONED("probing_abandoned"),
    PROBING_SUCCESSFUL("probing_successful"),
    MIGRATION_STARTED("migration_started"),
    MIGRATION_ABANDONED("migration_abandoned"),
    MIGRATION_COMPLETE("migration_complete");

    private final String qlogName;

    MigrationState(String qlogName) {
        this.qlogName = qlogName;
    }

    /** The name qlog uses. */
    public String qlogName() {
        return qlogName;
    }

    /** True for the states a migration attempt ends in. */
    public boolean isFinal() {
        return this == PROBING_ABANDONED || this == MIGRATION_ABANDONED || this == MIGRATION_COMPLETE;
    }
}
