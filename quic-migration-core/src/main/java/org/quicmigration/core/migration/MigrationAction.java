package org.quicmigration.core.migration;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;

/** What the migration core asks its caller to do, in the order given. */
public sealed interface MigrationAction {

    /** From now on, send application packets on {@code tuple} using this peer connection ID. */
    record UsePath(Tuple tuple, PeerConnectionIds.Entry peerId) implements MigrationAction {
    }

    /**
     * Send a PATH_CHALLENGE with {@code data} on {@code tuple}, with destination {@code peerId}, in a datagram
     * padded to at least 1200 bytes (RFC 9000 8.2.1), unless an anti-amplification limit forbids it.
     */
    record SendPathChallenge(Tuple tuple, ConnectionId peerId, byte[] data) implements MigrationAction {
    }

    /** Send RETIRE_CONNECTION_ID for this sequence number. */
    record RetirePeerId(long sequence) implements MigrationAction {
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

    /** The migration attempt ended; {@code outcome} says how. */
    record Finished(MigrationOutcome outcome) implements MigrationAction {
    }
}
