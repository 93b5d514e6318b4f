package org.quicmigration.kwik;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationState;

/**
 * Internal: what the client migration driver reports. Called on the driver's thread; implementations hand off
 * and return at once.
 */
public interface MigrationObserver {

    void stateChanged(MigrationState from, MigrationState to, Tuple tuple, MigrationCause cause);

    void validationStarted(Tuple tuple, byte[] challengeData);

    void validationSucceeded(Tuple tuple, long roundTripNanos);

    void validationFailed(Tuple tuple);

    void peerIdChanged(ConnectionId from, ConnectionId to, Tuple tuple);

    /** Sending or receiving on {@code tuple} failed: the OS took its address, route or link away. */
    default void pathFailed(Tuple tuple, String reason) {
    }

    /** The standby path on {@code tuple} changed state; the round trip of its last answered probe, or -1. */
    default void standbyChanged(Tuple tuple, org.quicmigration.core.migration.StandbyState state, long roundTripNanos) {
    }

    /** The active path is gone and no other network is usable; the connection waits for one. */
    default void noUsableNetwork(Tuple tuple) {
    }

    /** The active path's network is back after an outage the connection sat out on it; it resumes there. */
    default void pathResumed(Tuple tuple) {
    }
}
