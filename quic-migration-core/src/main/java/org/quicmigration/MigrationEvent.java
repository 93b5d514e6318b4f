package org.quicmigration;

import java.time.Duration;
import java.time.Instant;

/**
 * Something that happened to a connection's paths. Delivered to {@link MigrationListener}s in order, on a
 * library thread that never carries network I/O.
 */
public sealed interface MigrationEvent {

    /** {@return when it happened} */
    Instant time();

    /** {@return the path it concerns} */
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

    /**
     * The connection started moving to {@code path}, for {@code cause}: the application, the server's preferred
     * address, or the {@link MigrationPolicy} (a lost network, a write error, a degrading path, a preferred network
     * back). On a server the cause is {@link MigrationCause#PEER_MOVED}.
     */
    record MigrationStarted(Instant time, NetworkPath path, MigrationCause cause) implements MigrationEvent {
    }

    /**
     * Sending or receiving on {@code path} failed because the operating system took the network away (the local
     * address was removed, the route or link went down, a firewall refused the datagram); {@code reason} is the
     * system's message. The datagram counts as lost; the connection lives on, and the {@link MigrationPolicy} moves it
     * if that path was the active one.
     */
    record PathFailed(Instant time, NetworkPath path, String reason) implements MigrationEvent {
    }

    /**
     * The active path {@code path} is gone and no other network is usable: the connection waits for one until its
     * idle timeout, then ends with {@link ConnectionClosedException.Reason#NO_USABLE_NETWORK}.
     */
    record NoUsableNetwork(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /**
     * The network of the active path {@code path} is back after it was lost (its address reappeared, or a send on it
     * worked again) while the connection stayed on it: the connection resumes there at once, resending what was in
     * flight. Follows {@link NoUsableNetwork} when no other network was usable meanwhile.
     */
    record PathResumed(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** The connection now uses {@code path}, validated. */
    record MigrationCompleted(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /** The move to {@code path} was given up; the connection is back on its previous path. */
    record MigrationAbandoned(Instant time, NetworkPath path) implements MigrationEvent {
    }

    /**
     * The standby path {@code path} ({@link MigratingConnection#addStandbyPath}) changed to {@code state}; the round
     * trip of its last answered probe, if any.
     */
    record StandbyPathChanged(Instant time, NetworkPath path, StandbyPath.State state,
                              java.util.Optional<Duration> roundTrip) implements MigrationEvent {
    }

    /** Packets on {@code path} now carry the destination connection ID {@code newId} (hex) instead of {@code oldId}. */
    record PeerConnectionIdChanged(Instant time, NetworkPath path, String oldId, String newId) implements MigrationEvent {
    }
}
