package org.quicmigration.core.migration;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.path.Pto;

/**
 * The client's standby path, if it has one, and the peer connection ID it holds: at most one standby, because it
 * takes the spare ID (RFC 9000 9.5: a path of its own needs an ID of its own). {@link ClientMigrator} owns it and
 * adds what it decides to the migrator's list of actions. Not thread-safe, as the migrator.
 */
final class StandbySlot {

    private final PeerConnectionIds peerIds;
    private final Duration maxAckDelay;
    private final RandomGenerator random;
    private Standby standby;

    StandbySlot(PeerConnectionIds peerIds, Duration maxAckDelay, RandomGenerator random) {
        this.peerIds = peerIds;
        this.maxAckDelay = maxAckDelay;
        this.random = random;
    }

    boolean exists() {
        return standby != null;
    }

    boolean isOn(Tuple tuple) {
        return standby != null && standby.tuple().equals(tuple);
    }

    Optional<Tuple> tuple() {
        return standby == null ? Optional.empty() : Optional.of(standby.tuple());
    }

    /** Refuses a second standby. */
    void refuseIfExists() throws MigrationRefusedException {
        if (standby != null) {
            throw new MigrationRefusedException(MigrationRefusal.STANDBY_EXISTS,
                    "the connection keeps a standby path on " + standby.tuple() + " already");
        }
    }

    /** Starts a standby on {@code tuple} with the spare ID, probed now and every {@code reprobeInterval}. */
    void add(long nowNanos, Tuple tuple, Duration currentPathPto, Duration reprobeInterval,
             List<MigrationAction> actions) {
        peerIds.assign(tuple).orElseThrow();
        standby = new Standby(tuple, nowNanos, reprobeInterval.toNanos(), Pto.initial(maxAckDelay).toNanos(),
                Pto.validationTimeout(currentPathPto, maxAckDelay).toNanos(), random);
        actions.add(new MigrationAction.StandbyChanged(tuple, StandbyState.PROBING, -1));
        sendChallenge(nowNanos, actions);
    }

    /** The standby, taken for a move to it: it keeps its ID, and the slot is empty. */
    Standby take(List<MigrationAction> actions) {
        Standby taken = standby;
        standby = null;
        actions.add(new MigrationAction.StandbyChanged(taken.tuple(), StandbyState.IN_USE, taken.roundTripNanos()));
        return taken;
    }

    /** Gives the standby up: its socket closes; its ID is retired if {@code retireId}, else just released. */
    void drop(boolean retireId, List<MigrationAction> actions) {
        Tuple tuple = standby.tuple();
        standby = null;
        Optional<Long> sequence = peerIds.release(tuple);
        if (retireId) {
            sequence.ifPresent(retired -> actions.add(new MigrationAction.RetirePeerId(retired)));
        }
        actions.add(new MigrationAction.ClosePath(tuple));
        actions.add(new MigrationAction.StandbyChanged(tuple, StandbyState.REMOVED, -1));
    }

    void challengeLeft(long nowNanos, byte[] data) {
        if (standby != null) {
            standby.challengeLeft(nowNanos, data);
        }
    }

    /** True if {@code data} answers the standby's probe; the first answer after none makes it READY. */
    boolean onPathResponse(long nowNanos, byte[] data, List<MigrationAction> actions) {
        if (standby == null) {
            return false;
        }
        StandbyState before = standby.state();
        if (!standby.onResponse(nowNanos, data)) {
            return false;
        }
        if (before != StandbyState.READY) {
            actions.add(new MigrationAction.StandbyChanged(standby.tuple(), StandbyState.READY, standby.roundTripNanos()));
        }
        return true;
    }

    void onTimer(long nowNanos, List<MigrationAction> actions) {
        if (standby == null) {
            return;
        }
        if (standby.onTimer(nowNanos)) {
            actions.add(new MigrationAction.StandbyChanged(standby.tuple(), StandbyState.FAILED,
                    standby.roundTripNanos()));
        }
        sendChallenge(nowNanos, actions);
    }

    /** The socket of {@code tuple} failed: a standby there is FAILED until it answers again. */
    void onPathFailed(long nowNanos, Tuple tuple, List<MigrationAction> actions) {
        if (isOn(tuple) && standby.onFailed(nowNanos)) {
            actions.add(new MigrationAction.StandbyChanged(tuple, StandbyState.FAILED, standby.roundTripNanos()));
        }
    }

    long nextTimerNanos() {
        return standby == null ? Long.MAX_VALUE : standby.nextTimerNanos();
    }

    private void sendChallenge(long nowNanos, List<MigrationAction> actions) {
        byte[] data = standby.challengeToSend(nowNanos);
        if (data != null) {
            ConnectionId id = peerIds.current(standby.tuple()).orElseThrow().id();
            actions.add(new MigrationAction.SendPathChallenge(standby.tuple(), id, data));
        }
    }
}
