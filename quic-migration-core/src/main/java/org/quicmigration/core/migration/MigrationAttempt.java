package org.quicmigration.core.migration;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.path.PathValidation;

/** One migration of {@link ClientMigrator} in progress: its paths, peer IDs, validation and state. */
final class MigrationAttempt {

    final MigrationMode mode;
    final MigrationCause cause;
    final Tuple oldTuple;
    final Tuple newTuple;
    final PeerConnectionIds.Entry oldId;
    final PeerConnectionIds.Entry newId;
    final PathValidation validation;
    final long startNanos;
    MigrationState state;
    /** The path left was closed already: it lost its connection ID during the migration. */
    boolean oldClosed;

    MigrationAttempt(MigrationMode mode, MigrationCause cause, Tuple oldTuple, Tuple newTuple, PeerConnectionIds.Entry oldId,
            PeerConnectionIds.Entry newId, PathValidation validation, long startNanos) {
        this.mode = mode;
        this.cause = cause;
        this.oldTuple = oldTuple;
        this.newTuple = newTuple;
        this.oldId = oldId;
        this.newId = newId;
        this.validation = validation;
        this.startNanos = startNanos;
    }
}
