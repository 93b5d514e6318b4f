package org.quicmigration.core.migration;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * What {@link ServerMigrator} asks the engine binding to do, in the order given. Each action is complete in itself:
 * performing one never needs to look at another of the same list.
 */
public sealed interface ServerAction {

    /** Which path frame a {@link SendPathFrame} carries. */
    enum PathFrame { CHALLENGE, RESPONSE }

    /**
     * Send a PATH_CHALLENGE or PATH_RESPONSE with {@code data} on {@code tuple} as a probe, padded to 1200 bytes as far
     * as the path's budget allows when it leaves (RFC 9000 8.2.1). A challenge's departure is reported with {@link
     * ServerMigrator#onChallengeLeft}.
     *
     * @param sealWith        the client connection ID the packet must carry on that path (RFC 9000 9.5), or null for
     *                        the one the connection uses now
     * @param leavesRecovery  whether the frame is taken out of the engine's loss recovery once sent: true unless the
     *                        client is probing that path itself (a frame to a binding a NAT left behind is lost for
     *                        certain, and its loss must not count as congestion)
     */
    record SendPathFrame(PathFrame frame, Tuple tuple, byte[] data, ConnectionId sealWith, boolean leavesRecovery)
            implements ServerAction {
    }

    /** RFC 9000 9.4: reset congestion control and RTT for the new path (not done for a port-only change). */
    record ResetRecovery(Tuple tuple) implements ServerAction {
    }

    /**
     * Switch to the client's next unused connection ID for {@code tuple}, and report the result with {@link
     * ServerMigrator#onClientIdSwitched} or {@link ServerMigrator#onNoSpareClientId}.
     */
    record UseNextClientId(Tuple tuple) implements ServerAction {
    }

    /** Retire the client connection ID with this sequence number (RFC 9000 19.16). */
    record RetireClientId(int sequence) implements ServerAction {
    }

    /**
     * Remember congestion control as it is now, and when: the connection moved to a new port of the same client
     * address (a NAT rebinding), and until that path is validated the engine may mistake its delay for loss.
     */
    record SnapshotCongestion() implements ServerAction {
    }

    /**
     * The rebinding remembered by the last {@link SnapshotCongestion} is validated: what was sent before it and is
     * still unacknowledged is sent again, and congestion control goes back to the snapshot (RFC 9000 9.4 keeps it
     * across a port change).
     */
    record RestoreCongestion() implements ServerAction {
    }

    /** Seed the RTT estimator, reset at the move, with the round trip a path validation measured. */
    record SeedRtt(long roundTripNanos) implements ServerAction {
    }

    /** Start a recovery period, so losses from before the move do not shrink the new path's window again. */
    record StartRecoveryPeriod() implements ServerAction {
    }

    // ---- reports: no effect on the connection, for observers ----------------------------------------------------

    /** The connection follows the client to {@code tuple}; the move completes with {@link Migrated} or {@link FellBack}. */
    record MigrationStarted(Tuple tuple) implements ServerAction {
    }

    /** A validation of {@code tuple} began with the challenge {@code data}. */
    record ValidationStarted(Tuple tuple, byte[] data) implements ServerAction {
    }

    /** {@code tuple} answered a challenge after {@code roundTripNanos} (RFC 9000 8.2.3). */
    record ValidationSucceeded(Tuple tuple, long roundTripNanos) implements ServerAction {
    }

    /** {@code tuple} did not answer in time (RFC 9000 8.2.4). */
    record ValidationFailed(Tuple tuple) implements ServerAction {
    }

    /** The client moved to {@code to}, which is validated; the connection lives there now. */
    record Migrated(Tuple from, Tuple to) implements ServerAction {
    }

    /** The move to {@code failed} was given up; the connection went back to its last validated path. */
    record FellBack(Tuple failed) implements ServerAction {
    }

    /** The connection sends with the client's connection ID {@code taken} on {@code tuple} now, no longer {@code left}. */
    record ClientIdChanged(ConnectionId left, ConnectionId taken, Tuple tuple) implements ServerAction {
    }
}
