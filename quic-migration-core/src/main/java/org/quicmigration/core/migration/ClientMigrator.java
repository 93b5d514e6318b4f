package org.quicmigration.core.migration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.path.PathValidation;
import org.quicmigration.core.path.Pto;

/**
 * The client side of connection migration (RFC 9000 9), sans-IO: the caller feeds in requests, received
 * PATH_RESPONSE and NEW_CONNECTION_ID frames and timer expiries, each with the current time, and performs the
 * {@link MigrationAction}s it gets back, in order. One migration runs at a time.
 *
 * <p>Not thread-safe: the caller serialises all calls (the binding makes them all on its one binding thread).
 */
public final class ClientMigrator {

    private final PeerConnectionIds peerIds;
    private final RandomGenerator random;
    private final Duration maxAckDelay;
    private Tuple activeTuple;
    private MigrationAttempt attempt;
    /** Paths whose sockets failed (the OS took the network away): never a path to fall back to. */
    private final java.util.Set<Tuple> failedPaths = new java.util.HashSet<>();
    private final StandbySlot standby;

    /**
     * @param peerIds      the peer's connection IDs; the initial path must already be bound to one
     * @param initialTuple the path of the handshake
     * @param maxAckDelay  the peer's max_ack_delay, for PTO arithmetic
     * @param random       source of PATH_CHALLENGE data
     */
    public ClientMigrator(PeerConnectionIds peerIds, Tuple initialTuple, Duration maxAckDelay, RandomGenerator random) {
        if (peerIds.current(initialTuple).isEmpty()) {
            throw new IllegalArgumentException("the initial path " + initialTuple + " has no peer connection ID");
        }
        this.peerIds = peerIds;
        this.activeTuple = initialTuple;
        this.maxAckDelay = maxAckDelay;
        this.random = random;
        this.standby = new StandbySlot(peerIds, maxAckDelay, random);
    }

    /** The path application data uses now. */
    public Tuple activeTuple() {
        return activeTuple;
    }

    /** True while a migration attempt has not ended. */
    public boolean inProgress() {
        return attempt != null;
    }

    /**
     * Starts moving the connection to {@code newTuple}.
     *
     * @param handshakeConfirmed     whether the handshake is confirmed (RFC 9000 4.1.2)
     * @param peerDisabledMigration  whether the peer sent disable_active_migration
     * @param currentPathPto         the PTO of the path in use, for the validation timeout
     * @throws MigrationRefusedException if the migration must not or cannot start; nothing changed
     */
    public List<MigrationAction> migrate(long nowNanos, Tuple newTuple, MigrationMode mode, boolean handshakeConfirmed,
                                         boolean peerDisabledMigration, Duration currentPathPto)
            throws MigrationRefusedException {
        return migrate(nowNanos, newTuple, mode, MigrationCause.APPLICATION, handshakeConfirmed, peerDisabledMigration,
                currentPathPto);
    }

    /**
     * Starts moving the connection to {@code newTuple} for {@code cause}, which the outcome repeats.
     *
     * @throws MigrationRefusedException if the migration must not or cannot start; nothing changed
     */
    public List<MigrationAction> migrate(long nowNanos, Tuple newTuple, MigrationMode mode, MigrationCause cause,
                                         boolean handshakeConfirmed, boolean peerDisabledMigration,
                                         Duration currentPathPto) throws MigrationRefusedException {
        boolean toStandby = standby.isOn(newTuple);
        check(handshakeConfirmed, peerDisabledMigration, newTuple.remote(), !toStandby);
        if (newTuple.equals(activeTuple)) {
            throw new IllegalArgumentException("the connection already uses " + newTuple);
        }
        List<MigrationAction> actions = new ArrayList<>();
        if (toStandby) {
            Standby taken = standby.take(actions);
            if (taken.state() == StandbyState.READY) {
                return switchToStandby(nowNanos, taken, mode, cause, actions);
            }
            // Not validated (yet, or any more): an ordinary migration, with the ID the standby was given.
        }
        if (cause == MigrationCause.NETWORK_LOST) {
            // The active path's address is gone (the monitor saw it go; no send may have failed yet): a move that
            // cannot be validated must not fall back to it.
            failedPaths.add(activeTuple);
        }
        PeerConnectionIds.Entry oldId = peerIds.current(activeTuple).orElseThrow();
        // RFC 9000 9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one local address".
        PeerConnectionIds.Entry newId = peerIds.assign(newTuple).orElseThrow(() -> new MigrationRefusedException(
                MigrationRefusal.NO_SPARE_CONNECTION_ID, "the server has given no spare connection ID ("
                + peerIds.activeCount() + " active, all in use)"));

        Duration newPathPto = Pto.initial(maxAckDelay);
        PathValidation validation = new PathValidation(newTuple, nowNanos, newPathPto.toNanos(),
                Pto.validationTimeout(currentPathPto, maxAckDelay).toNanos(), random);
        attempt = new MigrationAttempt(mode, cause, activeTuple, newTuple, oldId, newId, validation, nowNanos);

        if (mode == MigrationMode.SWITCH_THEN_VALIDATE) {
            attempt.enter(MigrationState.MIGRATION_STARTED, newTuple, nowNanos, actions);
            switchTo(newTuple, newId, attempt.oldTuple, true, actions);
            attempt.sendDueChallenge(nowNanos, peerIds, actions);
            actions.add(new MigrationAction.AnnounceMove(newTuple));
        } else {
            attempt.enter(MigrationState.PROBING_STARTED, newTuple, nowNanos, actions);
            attempt.sendDueChallenge(nowNanos, peerIds, actions);
        }
        return actions;
    }

    /**
     * Throws the refusal a migration towards {@code remote} would get now, without changing anything; lets the
     * caller avoid opening a socket for a migration that cannot start.
     */
    public void checkMigrationAllowed(boolean handshakeConfirmed, boolean peerDisabledMigration,
                                      java.net.InetSocketAddress remote) throws MigrationRefusedException {
        check(handshakeConfirmed, peerDisabledMigration, remote, true);
    }

    private void check(boolean handshakeConfirmed, boolean peerDisabledMigration, java.net.InetSocketAddress remote,
                       boolean needsSpareId) throws MigrationRefusedException {
        MigrationRules.check(attempt, standby, peerIds, activeTuple, handshakeConfirmed, peerDisabledMigration, remote,
                needsSpareId);
    }

    /** The challenge with {@code data} left at {@code nowNanos}; validation round trips count from then. */
    public void challengeLeft(long nowNanos, byte[] data) {
        if (attempt != null) {
            attempt.validation.challengeLeft(data, nowNanos);
        }
        standby.challengeLeft(nowNanos, data);
    }

    /** A PATH_RESPONSE arrived (on any path: RFC 9000 8.2.3). */
    public List<MigrationAction> onPathResponse(long nowNanos, byte[] data) {
        List<MigrationAction> actions = new ArrayList<>();
        if (attempt == null || !attempt.validation.onResponse(data, nowNanos)) {
            // RFC 9000 8.2.3: a response that matches no outstanding challenge is ignored.
            standby.onPathResponse(nowNanos, data, actions);
            return actions;
        }
        MigrationAttempt done = attempt;
        actions.add(new MigrationAction.PathValidated(done.newTuple, done.validation.roundTripNanos()));
        boolean movesNow = done.mode == MigrationMode.VALIDATE_THEN_SWITCH;
        if (movesNow) {
            done.enter(MigrationState.PROBING_SUCCESSFUL, done.newTuple, nowNanos, actions);
            done.enter(MigrationState.MIGRATION_STARTED, done.newTuple, nowNanos, actions);
            switchTo(done.newTuple, MigrationAttempt.idOf(peerIds, done.newTuple, done.newId), done.oldTuple, false,
                    actions);
        }
        done.enter(MigrationState.MIGRATION_COMPLETE, done.newTuple, nowNanos, actions);
        // RFC 9000 5.1.2: an ID used on a path we left is retired; the old path is no longer used.
        peerIds.release(done.oldTuple).ifPresent(sequence -> actions.add(new MigrationAction.RetirePeerId(sequence,
                movesNow)));
        if (!done.oldClosed) {
            actions.add(new MigrationAction.ClosePath(done.oldTuple));
        }
        finish(done, true, false, nowNanos, actions);
        if (movesNow) {
            actions.add(new MigrationAction.AnnounceMove(done.newTuple));
        }
        return actions;
    }

    /** Time passed: resend a challenge or give up, as due. */
    public List<MigrationAction> onTimer(long nowNanos) {
        List<MigrationAction> actions = new ArrayList<>();
        standby.onTimer(nowNanos, actions);
        if (attempt != null) {
            attemptTimer(nowNanos, actions);
        }
        return actions;
    }

    private void attemptTimer(long nowNanos, List<MigrationAction> actions) {
        MigrationAttempt failing = attempt;
        if (failing.validation.onTimer(nowNanos)) {
            if (failing.mode == MigrationMode.SWITCH_THEN_VALIDATE && failedPaths.contains(failing.oldTuple)) {
                // The old path's network is gone: going back would leave the connection on a path that cannot
                // carry anything. It stays on the new path, unvalidated, and the old path is left for good.
                peerIds.release(failing.oldTuple).ifPresent(sequence -> actions.add(new MigrationAction.RetirePeerId(sequence)));
                if (!failing.oldClosed) {
                    actions.add(new MigrationAction.ClosePath(failing.oldTuple));
                }
                finish(failing, false, false, nowNanos, actions);
                return;
            }
            peerIds.release(failing.newTuple).ifPresent(sequence -> actions.add(new MigrationAction.RetirePeerId(sequence)));
            if (failing.mode == MigrationMode.SWITCH_THEN_VALIDATE) {
                // RFC 9000 9.3.2 (the client's mirror of it): when validation of the new path fails, go back to the
                // last validated path.
                failing.enter(MigrationState.MIGRATION_ABANDONED, failing.newTuple, nowNanos, actions);
                switchTo(failing.oldTuple, MigrationAttempt.idOf(peerIds, failing.oldTuple, failing.oldId),
                        failing.newTuple, false, actions);
                actions.add(new MigrationAction.ClosePath(failing.newTuple));
                finish(failing, false, true, nowNanos, actions);
            } else {
                failing.enter(MigrationState.PROBING_ABANDONED, failing.newTuple, nowNanos, actions);
                actions.add(new MigrationAction.ClosePath(failing.newTuple));
                finish(failing, false, false, nowNanos, actions);
            }
            return;
        }
        attempt.sendDueChallenge(nowNanos, peerIds, actions);
    }

    /** The socket of {@code tuple} failed: the OS took its address, route or link away. */
    public List<MigrationAction> onPathFailed(long nowNanos, Tuple tuple) {
        failedPaths.add(tuple);
        List<MigrationAction> actions = new ArrayList<>(1);
        standby.onPathFailed(nowNanos, tuple, actions);
        return actions;
    }

    /** The socket of {@code tuple} works again. */
    public void onPathWorks(Tuple tuple) {
        failedPaths.remove(tuple);
    }

    /** The cause of the migration in progress, or null if there is none. */
    public MigrationCause currentCause() {
        return attempt == null ? null : attempt.cause;
    }

    /** When {@link #onTimer} next has work, or Long.MAX_VALUE. */
    public long nextTimerNanos() {
        long next = attempt == null ? Long.MAX_VALUE : attempt.validation.nextTimerNanos();
        return Math.min(next, standby.nextTimerNanos());
    }

    /**
     * A NEW_CONNECTION_ID frame arrived. If it retires the ID a path uses, that path moves to another ID.
     *
     * @throws TransportErrorException if the frame breaks a rule
     */
    public List<MigrationAction> onNewConnectionId(long nowNanos, long sequence, ConnectionId id,
                                                   StatelessResetToken token, long retirePriorTo)
            throws TransportErrorException {
        PeerConnectionIds.Update update = peerIds.onNewConnectionId(sequence, id, token, retirePriorTo);
        List<MigrationAction> actions = new ArrayList<>();
        for (long retired : update.retire()) {
            actions.add(new MigrationAction.RetirePeerId(retired));
        }
        // The path in use first: if the peer left fewer new IDs than paths that lost theirs, it keeps the connection.
        List<Tuple> orphans = new ArrayList<>(update.pathsThatLostTheirId());
        if (orphans.remove(activeTuple)) {
            orphans.add(0, activeTuple);
        }
        // The standby last: a migration's other path (its fall back) needs an ID more than a path kept for later.
        Optional<Tuple> standbyTuple = standby.tuple();
        if (standbyTuple.isPresent() && orphans.remove(standbyTuple.get())) {
            orphans.add(standbyTuple.get());
        }
        for (Tuple orphan : orphans) {
            Optional<PeerConnectionIds.Entry> replacement = peerIds.assign(orphan);
            if (standby.isOn(orphan)) {
                if (replacement.isEmpty()) {
                    // RFC 9000 5.1.2: "MUST stop using" the retired ID, and the standby has no other.
                    standby.drop(false, actions);
                }
                continue; // with a replacement, its next probe carries the new ID
            }
            if (replacement.isEmpty() && !orphan.equals(activeTuple) && attempt != null) {
                // The peer kept the rules (it need not give an ID per path of ours), but the migration's other path
                // has no ID left, so nothing more can be sent there (RFC 9000 5.1.2: "MUST stop using").
                leaveWithoutId(orphan, nowNanos, actions);
                continue;
            }
            if (replacement.isEmpty()) {
                throw new TransportErrorException(TransportErrorException.PROTOCOL_VIOLATION,
                        "peer retired the connection ID of " + orphan + " and gave no replacement");
            }
            if (orphan.equals(activeTuple)) {
                actions.add(new MigrationAction.UsePath(orphan, replacement.get(), false));
            }
        }
        return actions;
    }

    /**
     * Keeps {@code tuple} validated while the active path carries the data, so that {@link #migrate} to it switches
     * at once, with no validation first: probed now, and every {@code reprobeInterval} once it answered. It takes the
     * spare peer connection ID (RFC 9000 9.5: a path of its own needs an ID of its own), so while it exists a move to
     * any other path is refused for want of one.
     *
     * @throws MigrationRefusedException as {@link #migrate} would be refused, or with
     *         {@link MigrationRefusal#STANDBY_EXISTS}; nothing changed
     */
    public List<MigrationAction> addStandby(long nowNanos, Tuple tuple, boolean handshakeConfirmed,
                                            boolean peerDisabledMigration, Duration currentPathPto,
                                            Duration reprobeInterval) throws MigrationRefusedException {
        checkStandbyAllowed(handshakeConfirmed, peerDisabledMigration, tuple.remote());
        if (tuple.equals(activeTuple)) {
            throw new IllegalArgumentException("the connection already uses " + tuple);
        }
        List<MigrationAction> actions = new ArrayList<>();
        standby.add(nowNanos, tuple, currentPathPto, reprobeInterval, actions);
        return actions;
    }

    /** Throws the refusal {@link #addStandby} would get now, without changing anything. */
    public void checkStandbyAllowed(boolean handshakeConfirmed, boolean peerDisabledMigration,
                                    java.net.InetSocketAddress remote) throws MigrationRefusedException {
        standby.refuseIfExists();
        // RFC 9000 18.2: a standby sends from a new local address, which disable_active_migration forbids too.
        check(handshakeConfirmed, peerDisabledMigration, remote, true);
    }

    /** The standby path, if there is one. */
    public Optional<Tuple> standbyTuple() {
        return standby.tuple();
    }

    /** Gives up the standby path, if there is one: its ID is retired and its socket closed. */
    public List<MigrationAction> removeStandby() {
        List<MigrationAction> actions = new ArrayList<>();
        if (standby.exists()) {
            standby.drop(true, actions);
        }
        return actions;
    }

    /**
     * The move to a standby that answered its last probe: RFC 9000 9.3.1 lets a path validated recently go
     * unvalidated again, so the switch is complete at once, with the standby's measured round trip.
     */
    private List<MigrationAction> switchToStandby(long nowNanos, Standby taken, MigrationMode mode,
                                                  MigrationCause cause, List<MigrationAction> actions) {
        Tuple target = taken.tuple();
        PeerConnectionIds.Entry oldId = peerIds.current(activeTuple).orElseThrow();
        PeerConnectionIds.Entry newId = peerIds.current(target).orElseThrow();
        attempt = new MigrationAttempt(mode, cause, activeTuple, target, oldId, newId, taken.lastSucceeded(), nowNanos);
        MigrationAttempt done = attempt;
        actions.add(0, new MigrationAction.PathValidated(target, taken.lastSucceeded().roundTripNanos()));
        done.enter(MigrationState.MIGRATION_STARTED, target, nowNanos, actions);
        switchTo(target, newId, done.oldTuple, false, actions);
        done.enter(MigrationState.MIGRATION_COMPLETE, target, nowNanos, actions);
        // RFC 9000 5.1.2: an ID used on a path we left is retired.
        peerIds.release(done.oldTuple).ifPresent(sequence -> actions.add(new MigrationAction.RetirePeerId(sequence,
                true)));
        actions.add(new MigrationAction.ClosePath(done.oldTuple));
        finish(done, true, false, nowNanos, actions);
        actions.add(new MigrationAction.AnnounceMove(target));
        return actions;
    }

    /**
     * The migration's path that is not in use lost its ID: a path being probed is given up (the probe cannot go on);
     * the path a switch left can no longer be fallen back to, so it counts as failed (see {@link #onTimer}) and is
     * closed at once.
     */
    private void leaveWithoutId(Tuple path, long nowNanos, List<MigrationAction> actions) {
        if (path.equals(attempt.newTuple)) {
            attempt.enter(MigrationState.PROBING_ABANDONED, path, nowNanos, actions);
            actions.add(new MigrationAction.ClosePath(path));
            finish(attempt, false, false, nowNanos, actions);
        } else if (path.equals(attempt.oldTuple)) {
            failedPaths.add(path);
            attempt.oldClosed = true;
            actions.add(new MigrationAction.ClosePath(path));
        }
    }

    private void switchTo(Tuple tuple, PeerConnectionIds.Entry id, Tuple from, boolean beforeValidation,
                          List<MigrationAction> actions) {
        actions.add(new MigrationAction.UsePath(tuple, id, beforeValidation));
        // RFC 9000 9.4: reset congestion control and RTT for a new path, "unless the only change in the peer's
        // address is its port number" — a port-only change is a NAT rebinding on the same network.
        if (!tuple.onlyPortsDifferFrom(from)) {
            actions.add(new MigrationAction.ResetRecovery(tuple));
        }
        activeTuple = tuple;
    }

    private void finish(MigrationAttempt done, boolean validated, boolean fellBack, long nowNanos,
                        List<MigrationAction> actions) {
        done.finish(validated, fellBack, nowNanos, actions);
        attempt = null;
    }
}
