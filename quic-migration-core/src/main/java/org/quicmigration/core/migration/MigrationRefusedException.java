package org.quicmigration.core.migration;

/** A migration request the core refused before doing anything. */
public final class MigrationRefusedException extends Exception {

    private static final long serialVersionUID = 1L;

    private final MigrationRefusal refusal;

    public MigrationRefusedException(MigrationRefusal refusal, String message) {
        super(message);
        this.refusal = refusal;
    }

    public MigrationRefusal refusal() {
        return refusal;
    }
}
