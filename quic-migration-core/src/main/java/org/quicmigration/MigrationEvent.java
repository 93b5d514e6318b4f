package org.quicmigration;

import java.time.Duration;
import java.time.Instant;

/**
 * Something that happened to a connection's paths. Delivered to {@link MigrationListener}s in order, on a
 * library thread that never carries network I/O.
 */
public sealed interface MigrationEvent {

    /** When it happened. */
    Instant time();

    /** The path it concerns. */
    NetworkPath path();

    /** A PATH_CHALLENGE was sent on {@code path}; {@code challengeData} is its 8 bytes in hex. */
    record PathValidationStarted(Instant time, NetworkPath path, String challengeData) implements MigrationEvent {
    }

    /** {@code path} answered a PATH_CHALLENGE. */
    record PathValidated(Instant time, NetworkPath path, Duration roundTrip) implements MigrationEvent {
    }

    /** {@code path} did not answer in time. */
    record PathValidationFailed(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** The connection started moving to {@code path}. */
    record MigrationStarted(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** The connection now uses {@code path}, validated. */
    record MigrationCompleted(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** The move to {@code path} was given up; the connection is back on its previous path. */
    record MigrationAbandoned(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** Packets on {@code path} now carry the destination connection ID {@code newId} (hex) instead of {@code oldId}. */
    record PeerConnectionIdChanged(Instant time, NetworkPath path, String oldId, String newId) implements MigrationEvent {
    }
}
