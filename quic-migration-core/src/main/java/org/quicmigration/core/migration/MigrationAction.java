package org.quicmigration.core.migration;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;

/** What the migration core asks its caller to do, in the order given. */
public sealed interface MigrationAction {

    /**
     * From now on, send application packets on {@code tuple} using this peer connection ID.
     *
     * @param beforeValidation whether the path is used before it is validated (a switch-first move): what the engine
     *                         sends there first may be the packet the server learns of the move from
     */
    record UsePath(Tuple tuple, PeerConnectionIds.Entry peerId, boolean beforeValidation) implements MigrationAction {
    }

    /**
     * Send a PATH_CHALLENGE with {@code data} on {@code tuple}, with destination {@code peerId}, in a datagram
     * padded to at least 1200 bytes (RFC 9000 8.2.1), unless an anti-amplification limit forbids it.
     */
    record SendPathChallenge(Tuple tuple, ConnectionId peerId, byte[] data) implements MigrationAction {
    }

    /**
     * Send RETIRE_CONNECTION_ID for this sequence number.
     *
     * @param firstOnNewPath whether it goes in the first packet on the path just moved to (a move to a validated path
     *                       retires the old ID at once)
     */
    record RetirePeerId(long sequence, boolean firstOnNewPath) implements MigrationAction {

        /** A retirement that is not part of a move. */
        public RetirePeerId(long sequence) {
            this(sequence, false);
        }
    }

    /**
     * Reset the congestion controller and RTT estimator for the new path (RFC 9000 9.4: "an endpoint MUST
     * immediately reset the congestion controller and round-trip time estimator for the new path to initial values
     * [...] unless the only change in the peer's address is its port number").
     * Packets in flight stay in flight: they are declared lost and retransmitted as usual.
     */
    record ResetRecovery(Tuple tuple) implements MigrationAction {
    }

    /** The path is no longer used: release its socket. */
    record ClosePath(Tuple tuple) implements MigrationAction {
    }

    /** Report a state change (for events and qlog). */
    record StateChanged(MigrationState from, MigrationState to, Tuple tuple, long atNanos) implements MigrationAction {
    }

    /** The standby path on {@code tuple} changed state; the round trip of its last answered probe, or -1. */
    record StandbyChanged(Tuple tuple, StandbyState state, long roundTripNanos) implements MigrationAction {
    }

    /**
     * The move that just started is complete on the engine's side: send a non-probing packet on {@code tuple} now.
     * RFC 9000 9.3: the server follows only "a packet from a new peer address containing a non-probing frame", and a
     * path challenge's packet is probing (9.1).
     */
    record AnnounceMove(Tuple tuple) implements MigrationAction {
    }

    /**
     * The new path answered a challenge after {@code roundTripNanos}: reported before the state changes it causes, so
     * listeners read cause, then effect.
     */
    record PathValidated(Tuple tuple, long roundTripNanos) implements MigrationAction {
    }

    /**
     * Seed the RTT estimator, reset at the move (RFC 9000 9.4), with the round trip the new path's validation measured,
     * and start a recovery period so losses from before the move do not shrink the new path's window again.
     */
    record SeedRecoveryFromValidation(long roundTripNanos) implements MigrationAction {
    }

    /** The migration attempt ended; {@code outcome} says how. */
    record Finished(MigrationOutcome outcome) implements MigrationAction {
    }
}
