package org.quicmigration.kwik;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationState;
import org.quicmigration.core.migration.ServerAction;

/**
 * Internal: a server connection's {@link MigrationObserver}s, and the core's reports ({@link ServerAction}s with no
 * effect on the connection) turned into their calls. Called on Kwik's threads and the binding's timer thread; the
 * observers hand everything a user sees to the events thread.
 */
final class ServerObservers {

    private final List<MigrationObserver> observers = new CopyOnWriteArrayList<>();

    void add(MigrationObserver observer) {
        observers.add(observer);
    }

    /** Tells the observers what a report of the core says; actions that are not reports are ignored. */
    void report(ServerAction action) {
        if (action instanceof ServerAction.MigrationStarted started) {
            observers.forEach(o -> o.stateChanged(null, MigrationState.MIGRATION_STARTED, started.tuple(),
                    MigrationCause.PEER_MOVED));
        } else if (action instanceof ServerAction.ValidationStarted started) {
            observers.forEach(o -> o.validationStarted(started.tuple(), started.data()));
        } else if (action instanceof ServerAction.ValidationSucceeded validated) {
            observers.forEach(o -> o.validationSucceeded(validated.tuple(), validated.roundTripNanos()));
        } else if (action instanceof ServerAction.ValidationFailed failed) {
            observers.forEach(o -> o.validationFailed(failed.tuple()));
        } else if (action instanceof ServerAction.Migrated migrated) {
            observers.forEach(o -> o.stateChanged(MigrationState.MIGRATION_STARTED, MigrationState.MIGRATION_COMPLETE,
                    migrated.to(), MigrationCause.PEER_MOVED));
        } else if (action instanceof ServerAction.FellBack fellBack) {
            observers.forEach(o -> o.stateChanged(MigrationState.MIGRATION_STARTED, MigrationState.MIGRATION_ABANDONED,
                    fellBack.failed(), MigrationCause.PEER_MOVED));
        } else if (action instanceof ServerAction.ClientIdChanged changed) {
            observers.forEach(o -> o.peerIdChanged(changed.left(), changed.taken(), changed.tuple()));
        }
    }
}
