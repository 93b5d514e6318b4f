package org.quicmigration.core.migration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * The server side of connection migration for one connection, sans-IO: every decision the server makes about paths,
 * in one place. It runs a {@link ServerPathManager} (which path to send on, budgets, validations, fallback) and adds
 * what sits between that and an engine that knows one client address: which client connection ID goes on which
 * path and when the old one is retired ({@link ServerClientIds}), what waits for a new path's challenge, which path
 * frames leave the engine's loss recovery, where a PATH_CHALLENGE is answered (RFC 9000 8.2.2), and what happens to
 * congestion control at a NAT rebinding.
 *
 * <p>Inputs are records and timer expiries; outputs are {@link ServerAction}s, each complete in itself, and a
 * {@link ServerRouting} value that sending code reads. Not thread-safe: the caller serialises all calls.
 */
public final class ServerMigrator {

    /** The shortest wait before the ID left at a move to a path validated beforehand is retired. */
    static final long MIN_RETIRE_DELAY_NANOS = 100_000_000L;

    private final ServerPathManager paths;
    private final ServerClientIds ids = new ServerClientIds();
    private Tuple active;
    private boolean activeValidated = true;
    /** The active path is new and its challenge has not left yet: everything else for it waits (see {@link #mayPass}). */
    private boolean challengePendingOnActive;
    /** The connection moved to a new port of the client's address and congestion control was remembered. */
    private boolean rebindingPending;
    private long ptoNanos = 100_000_000L;
    private ServerRouting routing;

    /**
     * @param handshakeTuple      the path of the handshake, validated by it (RFC 9000 8.1)
     * @param amplificationFactor how much more than it received a server may send to an unvalidated address (3)
     * @param maxPaths            how many paths to track at most (at least {@link ServerPathManager#MIN_PATHS})
     * @param validationTimeout   how long a path has to answer, or null for RFC 9000 8.2.4's rule
     * @param memory              how long a validated client address is remembered after its last datagram
     */
    public ServerMigrator(Tuple handshakeTuple, int amplificationFactor, int maxPaths, Duration maxAckDelay,
                          Duration validationTimeout, Duration memory, RandomGenerator random) {
        this.paths = new ServerPathManager(handshakeTuple, amplificationFactor, maxPaths, maxAckDelay,
                validationTimeout, memory, random);
        this.active = handshakeTuple;
    }

    /**
     * Where packets go now: the same value until a call changes it. A packet {@link ServerRouting#isRoutine} says
     * changes nothing need not be given to {@link #onDatagram}.
     */
    public ServerRouting routing() {
        ServerClientIds.LeftId left = ids.left();
        ConnectionId leftId = left == null ? null : left.id();
        Tuple leftPath = left == null ? null : left.path();
        ServerRouting last = routing;
        if (last == null || !last.active().equals(active) || last.activeValidated() != activeValidated
                || !java.util.Objects.equals(last.leftId(), leftId) || !java.util.Objects.equals(last.leftPath(), leftPath)
                || !java.util.Objects.equals(last.idOnActivePath(), ids.idOnActivePath())) {
            routing = new ServerRouting(active, activeValidated, leftId, leftPath, ids.idOnActivePath());
        }
        return routing;
    }

    /** An authenticated 1-RTT packet arrived. */
    public List<ServerAction> onDatagram(ServerDatagram datagram) {
        long now = datagram.nowNanos();
        Tuple tuple = datagram.tuple();
        ptoNanos = datagram.pto().toNanos();
        boolean keptId = ids.keptId(datagram.destinationId());
        boolean fromActive = tuple.equals(active);
        List<ServerPathAction> decided = new ArrayList<>(paths.onDatagram(now, tuple, datagram.bytes(),
                datagram.nonProbing(), datagram.highestPacketNumber(), keptId, datagram.pto()));
        for (byte[] response : datagram.responses()) {
            // RFC 9000 8.2.3: a response on any path validates the path its challenge was sent on.
            decided.addAll(paths.onPathResponse(now, response));
        }
        if (!datagram.challenges().isEmpty() && !fromActive) {
            ids.onProbed(tuple, keptId, datagram.nextClientId());
            decided.addAll(paths.onPathChallenge(now, tuple, datagram.pto()));
        }
        if (fromActive || decided.stream().anyMatch(a -> a instanceof ServerPathAction.SendOn)) {
            ids.onActivePathId(datagram.destinationId());
        }
        List<ServerAction> actions = new ArrayList<>();
        perform(decided, now, datagram.clientIdInUse(), true, actions);
        if (datagram.answerChallenges()) {
            for (byte[] challenge : datagram.challenges()) {
                // RFC 9000 8.2.2: "An endpoint MUST expand datagrams that contain a PATH_RESPONSE frame to at least
                // the smallest allowed maximum datagram size of 1200 bytes, unless the anti-amplification limit for
                // the path does not permit sending a datagram of this size." and "An endpoint MUST NOT send more
                // than one PATH_RESPONSE frame in response to one PATH_CHALLENGE frame". The response goes on the
                // path the challenge came on, as a probe (8.2.2: "on the network path where the PATH_CHALLENGE
                // frame was received").
                actions.add(pathFrame(ServerAction.PathFrame.RESPONSE, tuple, challenge));
            }
        }
        return actions;
    }

    /** The challenge with {@code data} left at {@code nowNanos}; {@code fullSize} if its datagram had 1200 bytes. */
    public void onChallengeLeft(long nowNanos, byte[] data, boolean fullSize) {
        paths.challengeLeft(nowNanos, data, fullSize);
    }

    /** Time passed: challenges to resend, validations to give up, an ID to retire. */
    public List<ServerAction> onTimer(long nowNanos) {
        List<ServerAction> actions = new ArrayList<>();
        perform(paths.onTimer(nowNanos), nowNanos, null, false, actions);
        if (ids.retirementDue(nowNanos)) {
            retireOnceLeftPathSettled(nowNanos, actions);
        }
        return actions;
    }

    /** When {@link #onTimer} next has work, or Long.MAX_VALUE. */
    public long nextTimerNanos() {
        return Math.min(paths.nextTimerNanos(), ids.nextTimerNanos());
    }

    /**
     * The connection switched to the client ID {@code taken} as asked by {@link ServerAction.UseNextClientId}; the ID
     * it left, sequence number {@code leftSequence}, is retired once the move settles.
     */
    public List<ServerAction> onClientIdSwitched(Tuple tuple, int leftSequence, ConnectionId left, ConnectionId taken) {
        List<ServerAction> actions = new ArrayList<>(2);
        int retireNow = ids.onSwitched(leftSequence, left);
        if (retireNow >= 0) {
            actions.add(new ServerAction.RetireClientId(retireNow));
        }
        actions.add(new ServerAction.ClientIdChanged(left, taken, tuple));
        return actions;
    }

    /** The client left no unused connection ID: the one in use stays in use on the new path too. */
    public void onNoSpareClientId() {
        ids.onNoSpareId();
    }

    // ---- sending ------------------------------------------------------------------------------------------------

    /**
     * Whether a path frame of {@code bytes} may go to {@code tuple} now; counts it if so. RFC 9000 8: "an endpoint
     * MUST limit the amount of data it sends to the unvalidated address to three times the amount of data received
     * from that address."
     */
    public boolean mayProbe(Tuple tuple, int bytes) {
        if (!paths.canSend(tuple, bytes)) {
            return false;
        }
        if (tuple.equals(active)) {
            challengePendingOnActive = false;
        }
        return true;
    }

    /**
     * Whether a datagram of {@code bytes} that is not a path frame may go to the active path now; counts it if so.
     * On a new path the first datagram is its challenge (the spirit of RFC 9000 9.3, and the QUIC interop runner's
     * rule): what the engine sends before it waits. After that, the path's budget decides.
     */
    public boolean mayPass(int bytes) {
        return !challengePendingOnActive && paths.canSend(active, bytes);
    }

    /** Bytes that may still go to {@code tuple} before it is validated (Long.MAX_VALUE once validated). */
    public long remainingBudget(Tuple tuple) {
        return paths.remainingBudget(tuple);
    }

    public int trackedPaths() {
        return paths.trackedPaths();
    }

    /** The state, for stall reports. */
    public String describe() {
        return "active " + active.remote() + (activeValidated ? " (validated)" : " (unvalidated, budget "
                + paths.remainingBudget(active) + ")") + ", challenge pending " + challengePendingOnActive
                + ", paths " + paths.trackedPaths();
    }

    // ---- the path manager's decisions, completed ----------------------------------------------------------------

    private void perform(List<ServerPathAction> decided, long now, ConnectionId clientIdInUse, boolean fromPacket,
                         List<ServerAction> actions) {
        for (ServerPathAction action : decided) {
            if (action instanceof ServerPathAction.SendOn on) {
                moveTo(on.tuple(), on.freshClientId(), clientIdInUse, actions);
            } else if (action instanceof ServerPathAction.SendPathChallenge challenge) {
                actions.add(pathFrame(ServerAction.PathFrame.CHALLENGE, challenge.tuple(), challenge.data()));
                if (fromPacket) {
                    actions.add(new ServerAction.ValidationStarted(challenge.tuple(), challenge.data()));
                }
            } else if (action instanceof ServerPathAction.ResetRecovery reset) {
                actions.add(new ServerAction.ResetRecovery(reset.tuple()));
            } else if (action instanceof ServerPathAction.PathValidated validated) {
                if (validated.tuple().equals(active) && !rebindingPending) {
                    // Recovery was reset at the move (RFC 9000 9.4); the validation's round trip is the first
                    // sample of the new path, and losses from before the move must not shrink its window again.
                    actions.add(new ServerAction.SeedRtt(validated.roundTripNanos()));
                    actions.add(new ServerAction.StartRecoveryPeriod());
                }
                actions.add(new ServerAction.ValidationSucceeded(validated.tuple(), validated.roundTripNanos()));
            } else if (action instanceof ServerPathAction.ValidationFailed failed) {
                actions.add(new ServerAction.ValidationFailed(failed.tuple()));
            } else if (action instanceof ServerPathAction.Migrated migrated) {
                onMigrated(migrated, now, actions);
            } else if (action instanceof ServerPathAction.FellBack fellBack) {
                actions.add(new ServerAction.FellBack(fellBack.failed()));
            }
        }
    }

    private void moveTo(Tuple tuple, boolean freshId, ConnectionId clientIdInUse, List<ServerAction> actions) {
        Tuple previous = active;
        boolean moved = !previous.equals(tuple);
        if (moved && tuple.onlyPortsDifferFrom(previous) && !rebindingPending) {
            // RFC 9000 9.4: congestion control is kept "if the only change in the peer's address is its port number";
            // the first of several rebindings in a row is the state to go back to once the new port is validated.
            rebindingPending = true;
            actions.add(new ServerAction.SnapshotCongestion());
        }
        ids.onMove(previous, tuple, freshId, clientIdInUse);
        boolean validated = paths.isValidated(tuple);
        activeValidated = validated;
        // A path the client probed before moving there had its challenge already (the manager keeps that validation
        // rather than start another): nothing else would clear the flag then.
        challengePendingOnActive = !validated && !paths.challengeLeftOn(tuple);
        active = tuple;
        if (moved) {
            actions.add(new ServerAction.MigrationStarted(tuple));
        }
        if (freshId && moved) {
            actions.add(new ServerAction.UseNextClientId(tuple));
        }
    }

    private void onMigrated(ServerPathAction.Migrated migrated, long now, List<ServerAction> actions) {
        if (migrated.to().equals(active)) {
            activeValidated = true;
        }
        boolean rebound = rebindingPending && migrated.to().onlyPortsDifferFrom(migrated.from());
        rebindingPending = false;
        if (rebound) {
            actions.add(new ServerAction.RestoreCongestion());
        } else if (migrated.atOnce() && migrated.validationRttNanos() > 0) {
            // No validation follows to seed the estimator reset at the move: the path's earlier one does.
            actions.add(new ServerAction.SeedRtt(migrated.validationRttNanos()));
        }
        if (migrated.atOnce()) {
            // The engine may still be building a packet with the ID just left: not in the moment of the switch.
            ids.retireAt(now + retireDelayNanos());
        } else {
            retireOnceLeftPathSettled(now, actions);
        }
        actions.add(new ServerAction.Migrated(migrated.from(), migrated.to()));
    }

    /**
     * Retires the ID left behind unless the path it was used on is still being validated (RFC 9000 9.3.3): our
     * challenges there carry that ID (9.5), so it is retired when that validation ended, either way.
     */
    private void retireOnceLeftPathSettled(long now, List<ServerAction> actions) {
        if (ids.switchPending()) {
            ids.retireAt(now); // for the ID that switch leaves, checked again once it is confirmed
            return;
        }
        ServerClientIds.LeftId left = ids.left();
        if (left != null && paths.isValidating(left.path())) {
            ids.retireAt(now + retireDelayNanos());
            return;
        }
        int sequence = ids.takeWaiting();
        if (sequence >= 0) {
            actions.add(new ServerAction.RetireClientId(sequence));
        }
    }

    private long retireDelayNanos() {
        return Math.max(MIN_RETIRE_DELAY_NANOS, 2 * ptoNanos);
    }

    private ServerAction.SendPathFrame pathFrame(ServerAction.PathFrame frame, Tuple tuple, byte[] data) {
        return new ServerAction.SendPathFrame(frame, tuple, data, ids.sealWith(tuple, active), ids.leavesRecovery(tuple));
    }
}
