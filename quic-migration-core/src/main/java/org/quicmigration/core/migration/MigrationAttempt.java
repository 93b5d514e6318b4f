package org.quicmigration.core.migration;

import java.util.List;

import org.quicmigration.core.ConnectionId;
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

    /** Moves to {@code next}, reported as a state change on {@code tuple}. */
    void enter(MigrationState next, Tuple tuple, long nowNanos, List<MigrationAction> actions) {
        MigrationState from = state;
        state = next;
        actions.add(new MigrationAction.StateChanged(from, next, tuple, nowNanos));
    }

    /** The new path's challenge, if one is due now. */
    void sendDueChallenge(long nowNanos, PeerConnectionIds peerIds, List<MigrationAction> actions) {
        byte[] data = validation.challengeToSend(nowNanos);
        if (data != null) {
            ConnectionId id = idOf(peerIds, newTuple, newId).id();
            actions.add(new MigrationAction.SendPathChallenge(newTuple, id, data));
        }
    }

    /** The attempt's end: its outcome, after the seed of the new path's recovery if it was validated. */
    void finish(boolean validated, boolean fellBack, long nowNanos, List<MigrationAction> actions) {
        if (validated && !newTuple.onlyPortsDifferFrom(oldTuple)) {
            // Recovery was reset at the move (RFC 9000 9.4); the validation's round trip is the new path's first sample.
            actions.add(new MigrationAction.SeedRecoveryFromValidation(validation.roundTripNanos()));
        }
        actions.add(new MigrationAction.Finished(new MigrationOutcome(oldTuple, newTuple, oldId.id(), newId.id(),
                validated, fellBack, validation.roundTripNanos(), nowNanos - startNanos, validation.challengesSent(),
                cause)));
    }

    /**
     * The ID {@code tuple} uses now: the one it was given when the migration started, or the replacement a
     * NEW_CONNECTION_ID frame gave it. RFC 9000 5.1.2: "Upon receipt of an increased Retire Prior To field, the
     * peer MUST stop using the corresponding connection IDs". The given one only if the path was left with none.
     */
    static PeerConnectionIds.Entry idOf(PeerConnectionIds peerIds, Tuple tuple, PeerConnectionIds.Entry given) {
        return peerIds.current(tuple).orElse(given);
    }
}
