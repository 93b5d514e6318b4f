package org.quicmigration.core.migration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.path.PathValidation;
import org.quicmigration.core.path.Pto;

/**
 * The server side of connection migration for one connection (RFC 9000 9.3), sans-IO. The caller reports every
 * datagram the connection receives (its tuple, size, and what decryption told about it), PATH_RESPONSE frames and
 * timer expiries; it asks {@link #canSend} before sending on a path; and it performs the returned actions.
 *
 * <p>Rules implemented here, each quoted where it is applied: follow a non-probing packet with the highest
 * packet number to its new address at once (9.3); until that address is validated, send it at most
 * {@code amplificationFactor} times what came from it (8, 9.3); validate it (8.2) and, to defeat off-path packet
 * forwarding, the previously active path too (9.3.3); reset congestion control unless only the port changed
 * (9.4); rotate the client connection ID unless the client kept its own (9.5); go back to the last validated path
 * if validation fails (9.3.2). A client that moves to one of the server's preferred addresses (a path whose local
 * address differs from the handshake's) is followed only once that path is validated (9.6.2). The number of paths
 * tracked is bounded, so a client (or attacker) that hops over thousands of addresses costs bounded memory.
 *
 * <p>Not thread-safe: the caller serialises all calls.
 */
public final class ServerPathManager {

    private final Duration maxAckDelay;
    /** Overrides RFC 9000 8.2.4's three PTOs if not null. */
    private final Duration validationTimeout;
    private final RandomGenerator random;
    private final ServerPathTable paths;
    private Tuple active;
    private Tuple lastValidated;
    private long migrationStartNanos;

    /**
     * The fewest paths a connection can track: while a new path is validated, neither the path in use nor the last
     * validated one (the fall back, RFC 9000 9.3.2) may be forgotten, and a third address must have room.
     */
    public static final int MIN_PATHS = 3;

    /**
     * @param handshakeTuple      the path of the handshake, validated by it (RFC 9000 8.1)
     * @param amplificationFactor how much more than it received a server may send to an unvalidated address (3)
     * @param maxPaths            how many paths to track at most (at least {@link #MIN_PATHS})
     */
    public ServerPathManager(Tuple handshakeTuple, int amplificationFactor, int maxPaths, Duration maxAckDelay,
                             RandomGenerator random) {
        this(handshakeTuple, amplificationFactor, maxPaths, maxAckDelay, null, DEFAULT_MEMORY, random);
    }

    /** How long a validated address is remembered by default after its last datagram: ngtcp2's choice too. */
    public static final Duration DEFAULT_MEMORY = Duration.ofMinutes(10);

    /**
     * @param validationTimeout how long a path has to answer, or null for RFC 9000 8.2.4's three times the larger
     *                          of the current and the new path's PTO
     * @param memory            how long a validated client address is remembered after its last datagram: a client
     *                          that comes back to it within that time is followed with no validation first and no
     *                          three-times limit
     */
    public ServerPathManager(Tuple handshakeTuple, int amplificationFactor, int maxPaths, Duration maxAckDelay,
                             Duration validationTimeout, Duration memory, RandomGenerator random) {
        if (maxPaths < MIN_PATHS) {
            throw new IllegalArgumentException("a connection needs at least " + MIN_PATHS + " paths tracked, was "
                    + maxPaths);
        }
        this.maxAckDelay = maxAckDelay;
        this.validationTimeout = validationTimeout;
        this.random = random;
        this.paths = new ServerPathTable(maxPaths, amplificationFactor, memory.toNanos());
        paths.track(0, handshakeTuple, handshakeTuple, handshakeTuple).budget.validated();
        active = handshakeTuple;
        lastValidated = handshakeTuple;
    }

    /** The path the connection sends on. */
    public Tuple activeTuple() {
        return active;
    }

    /** How many paths are tracked now (bounded by {@code maxPaths}). */
    public int trackedPaths() {
        return paths.size();
    }

    /**
     * A datagram of this connection arrived.
     *
     * @param nonProbing           true if it held a frame other than PATH_CHALLENGE, PATH_RESPONSE,
     *                             NEW_CONNECTION_ID and PADDING (RFC 9000 9.1)
     * @param highestPacketNumber  true if its packet number is the highest received so far
     * @param clientKeptItsId      true if the packet used the same destination connection ID as the active path
     *                             (a NAT rebinding rather than a deliberate migration)
     * @param currentPathPto       the PTO of the active path, for the validation timeout
     */
    public List<ServerPathAction> onDatagram(long nowNanos, Tuple tuple, int bytes, boolean nonProbing,
                                             boolean highestPacketNumber, boolean clientKeptItsId,
                                             Duration currentPathPto) {
        ServerPathTable.PathState path = paths.track(nowNanos, tuple, active, lastValidated);
        path.lastHeardNanos = nowNanos;
        path.budget.onReceived(bytes);
        if (nonProbing && highestPacketNumber) {
            // RFC 9000 9.3: "An endpoint only changes the address to which it sends packets in response to the
            // highest-numbered non-probing packet." A move waiting for a validation elsewhere is superseded.
            for (ServerPathTable.PathState other : paths.values()) {
                if (other != path) {
                    other.moveWhenValidated = false;
                }
            }
        }
        if (tuple.equals(active) || !nonProbing || !highestPacketNumber) {
            // RFC 9000 9.3: only "a packet from a new peer address containing a non-probing frame" with "the highest
            // packet number" makes the server move; probes and reordered or replayed packets do not.
            return List.of();
        }
        List<ServerPathAction> actions = new ArrayList<>();
        if (!tuple.local().equals(active.local()) && !path.budget.isValidated()) {
            // RFC 9000 9.6.2: "The server MUST send non-probing packets from its original address until it receives
            // a non-probing packet from the client at its preferred address and until the server has validated the
            // new path." So validate first, and move when the response comes (onPathResponse).
            path.moveWhenValidated = true;
            path.keptIdForMove = clientKeptItsId;
            if (path.validation == null) {
                startValidation(path, nowNanos, currentPathPto, actions);
            }
            return actions;
        }
        boolean validatedBefore = path.budget.isValidated();
        Tuple from = lastValidated;
        // A move that waited at one of our preferred addresses happens now, on this packet: nothing waits any more.
        path.moveWhenValidated = false;
        moveTo(path, nowNanos, clientKeptItsId, currentPathPto, true, actions);
        if (validatedBefore) {
            // Validated before the move (the client probed it first, RFC 9000 9.1, or used it before): the move is
            // complete at once.
            lastValidated = tuple;
            actions.add(new ServerPathAction.Migrated(from, tuple, path.validatedRoundTripNanos, true));
        }
        return actions;
    }

    /**
     * The client sent a PATH_CHALLENGE from {@code tuple} (reported after {@link #onDatagram} for the same datagram):
     * it is probing that path, perhaps to move there once it answers (RFC 9000 9.1). RFC 9000 8.2: "Path validation
     * can be used at any time by either endpoint", and "An endpoint can also include its own PATH_CHALLENGE frame
     * when sending a PATH_RESPONSE frame". So the server validates a probed path at once, within its budget: if the
     * client then moves there, the server follows with no three-times limit and nothing held back. At most
     * {@value #MAX_PROBED_VALIDATIONS} such validations run at a time, so probes cannot pin the tracked paths.
     */
    public List<ServerPathAction> onPathChallenge(long nowNanos, Tuple tuple, Duration currentPathPto) {
        ServerPathTable.PathState path = paths.get(tuple);
        if (path == null || tuple.equals(active) || path.budget.isValidated() || path.validation != null) {
            return List.of();
        }
        long running = paths.values().stream().filter(p -> p.validation != null && !p.tuple.equals(active)).count();
        if (running >= MAX_PROBED_VALIDATIONS) {
            return List.of();
        }
        List<ServerPathAction> actions = new ArrayList<>();
        startValidation(path, nowNanos, currentPathPto, actions);
        return actions;
    }

    /** How many paths the server validates at once because the client probed them (see {@link #onPathChallenge}). */
    static final int MAX_PROBED_VALIDATIONS = 2;

    /**
     * @param apparentMigration true if a packet from the path's address moved the connection there, false if the move
     *                          waited for the path's validation (RFC 9000 9.6.2)
     */
    private List<ServerPathAction> moveTo(ServerPathTable.PathState path, long nowNanos, boolean clientKeptItsId,
                                          Duration currentPathPto, boolean apparentMigration,
                                          List<ServerPathAction> actions) {
        Tuple tuple = path.tuple;
        Tuple previous = active;
        active = tuple;
        migrationStartNanos = nowNanos;
        // RFC 9000 9.5: a client that changed its own connection ID must not be linked by ours; one that kept it
        // (a NAT rebinding) "MAY continue to use the current connection ID with the new remote address".
        actions.add(new ServerPathAction.SendOn(tuple, !clientKeptItsId));
        if (!path.budget.isValidated() && path.validation == null) {
            // RFC 9000 9.3: the server "MUST initiate path validation (Section 8.2) to verify the peer's ownership
            // of the address if validation is not already underway". It is underway when the client probed the path
            // first (onPathChallenge): a migrating client's challenge often arrives just before its first
            // non-probing packet. A second challenge would spend 1,200 bytes of the path's three-times budget and
            // void the first one's answer, already on its way.
            startValidation(path, nowNanos, currentPathPto, actions);
        }
        // RFC 9000 9.3.3: "In response to an apparent migration, endpoints MUST validate the previously active path
        // using a PATH_CHALLENGE frame."
        ServerPathTable.PathState old = paths.get(previous);
        if (old != null && old.validation == null && apparentMigration) {
            startValidation(old, nowNanos, currentPathPto, actions);
        }
        // RFC 9000 9.4: reset "unless the only change in the peer's address is its port number". Last: the reset
        // declares everything in flight on the old path lost, and the engine resends it at once, so by then the
        // new path's client ID must be in place (a packet built with the old one may only go to the old path,
        // 9.5, which is dead if the client moved away from a lost network) and its challenge queued first.
        if (!tuple.onlyPortsDifferFrom(previous)) {
            actions.add(new ServerPathAction.ResetRecovery(tuple));
        }
        return actions;
    }

    /** The challenge with {@code data} left at {@code nowNanos}; validation round trips count from then. */
    public void challengeLeft(long nowNanos, byte[] data) {
        challengeLeft(nowNanos, data, true);
    }

    /**
     * As {@link #challengeLeft(long, byte[])}, saying whether its datagram had 1200 bytes. The size was chosen for
     * the budget when the challenge was decided, but other datagrams to the path (the answer to the client's own
     * challenge, held data) may have spent that budget before the challenge left, and then it left smaller: the
     * second, full-size validation of RFC 9000 8.2.1 follows all the same.
     */
    public void challengeLeft(long nowNanos, byte[] data, boolean fullSize) {
        for (ServerPathTable.PathState path : paths.values()) {
            if (path.validation != null && path.validation.challengeLeft(data, nowNanos)) {
                if (!fullSize) {
                    path.smallChallengeSent = true;
                }
                return;
            }
        }
    }

    /** A PATH_RESPONSE arrived; it validates the path whose challenge it answers (RFC 9000 8.2.3). */
    public List<ServerPathAction> onPathResponse(long nowNanos, byte[] data) {
        for (ServerPathTable.PathState path : paths.values()) {
            if (path.validation != null && path.validation.onResponse(data, nowNanos)) {
                path.budget.validated();
                long rtt = path.validation.roundTripNanos();
                path.validation = null;
                if (path.confirming) {
                    path.confirming = false; // the path carries full-size datagrams too: nothing changes
                    return List.of();
                }
                path.validatedRoundTripNanos = rtt;
                List<ServerPathAction> actions = onValidated(path, nowNanos, rtt);
                if (path.smallChallengeSent) {
                    // RFC 9000 8.2.1: "When an endpoint is unable to expand the datagram size to 1200 bytes due to
                    // the anti-amplification limit, the path MTU will not be validated. To ensure that the path MTU
                    // is large enough, the endpoint MUST perform a second path validation by sending a
                    // PATH_CHALLENGE frame in a datagram of at least 1200 bytes. This additional validation can be
                    // performed after a PATH_RESPONSE is successfully received". Validated now, the path has no
                    // budget limit, so this challenge is full size.
                    path.smallChallengeSent = false;
                    path.confirming = true;
                    actions = new ArrayList<>(actions);
                    startValidation(path, nowNanos, Duration.ZERO, actions);
                }
                return actions;
            }
        }
        // RFC 9000 8.2.3: a response matching no outstanding challenge is ignored.
        return List.of();
    }

    /** What a first successful validation of {@code path} brings: the events, and the move it waited for. */
    private List<ServerPathAction> onValidated(ServerPathTable.PathState path, long nowNanos, long rtt) {
        ServerPathAction validated = new ServerPathAction.PathValidated(path.tuple, rtt);
        if (path.moveWhenValidated && !path.tuple.equals(active)) {
            // The path was validated before the move, so there is no apparent migration to guard against
            // (9.3.3): the old path is not challenged.
            List<ServerPathAction> actions = new ArrayList<>(List.of(validated));
            Tuple from = active;
            moveTo(path, nowNanos, path.keptIdForMove, Duration.ZERO, false, actions);
            path.moveWhenValidated = false;
            lastValidated = active;
            actions.add(new ServerPathAction.Migrated(from, active, rtt, true));
            return actions;
        }
        if (path.tuple.equals(active) && !active.equals(lastValidated)) {
            Tuple from = lastValidated;
            lastValidated = active;
            return List.of(validated, new ServerPathAction.Migrated(from, active, rtt, false));
        }
        return List.of(validated);
    }

    /** Time passed: resend challenges or give up on validations, as due. */
    public List<ServerPathAction> onTimer(long nowNanos) {
        List<ServerPathAction> actions = new ArrayList<>();
        for (ServerPathTable.PathState path : List.copyOf(paths.values())) {
            if (path.validation == null) {
                continue;
            }
            if (path.validation.onTimer(nowNanos)) {
                path.validation = null;
                path.moveWhenValidated = false; // the move waited for this validation (RFC 9000 9.6.2)
                actions.add(new ServerPathAction.ValidationFailed(path.tuple));
                if (path.confirming) {
                    // Only the full-size confirmation failed: the path stays the one in use (its small datagrams
                    // get through), and nothing older is known to be better.
                    path.confirming = false;
                    continue;
                }
                if (path.tuple.equals(active) && !active.equals(lastValidated)) {
                    // RFC 9000 9.3.2: "If validation of the new path fails, the endpoint ... reverts to the last
                    // validated peer address". The last validated path itself failing its re-validation (9.3.3)
                    // leaves nothing better to go to.
                    Tuple failed = active;
                    active = lastValidated;
                    actions.add(new ServerPathAction.SendOn(active, false));
                    if (!active.onlyPortsDifferFrom(failed)) {
                        actions.add(new ServerPathAction.ResetRecovery(active));
                    }
                    actions.add(new ServerPathAction.FellBack(failed, active));
                }
                continue;
            }
            byte[] data = path.validation.challengeToSend(nowNanos);
            if (data != null) {
                challenge(path, data, actions);
            }
        }
        return actions;
    }

    /** When {@link #onTimer} next has work, or Long.MAX_VALUE. */
    public long nextTimerNanos() {
        long next = Long.MAX_VALUE;
        for (ServerPathTable.PathState path : paths.values()) {
            if (path.validation != null) {
                next = Math.min(next, path.validation.nextTimerNanos());
            }
        }
        return next;
    }

    /**
     * Asks to send {@code bytes} on {@code tuple}; counts them if allowed. RFC 9000 8: "an endpoint MUST limit the
     * amount of data it sends to the unvalidated address to three times the amount of data received from that
     * address."
     */
    public boolean canSend(Tuple tuple, int bytes) {
        ServerPathTable.PathState path = paths.get(tuple);
        return path != null && path.budget.trySend(bytes);
    }

    /** Bytes that may still go to {@code tuple} before it is validated (Long.MAX_VALUE once validated). */
    public long remainingBudget(Tuple tuple) {
        ServerPathTable.PathState path = paths.get(tuple);
        return path == null ? 0 : path.budget.remaining();
    }

    public boolean isValidating(Tuple tuple) {
        ServerPathTable.PathState path = paths.get(tuple);
        return path != null && path.validation != null;
    }

    /**
     * Whether a challenge of a validation underway on {@code tuple} has left already (reported with
     * {@link #challengeLeft}); false if none is underway.
     */
    public boolean challengeLeftOn(Tuple tuple) {
        ServerPathTable.PathState path = paths.get(tuple);
        return path != null && path.validation != null && path.validation.challengeHasLeft();
    }

    public boolean isValidated(Tuple tuple) {
        ServerPathTable.PathState path = paths.get(tuple);
        return path != null && path.budget.isValidated();
    }

    /** How long the current migration has run, for reports. */
    public long migrationStartNanos() {
        return migrationStartNanos;
    }

    private void startValidation(ServerPathTable.PathState path, long nowNanos, Duration currentPathPto, List<ServerPathAction> actions) {
        Duration newPathPto = Pto.initial(maxAckDelay);
        path.validation = new PathValidation(path.tuple, nowNanos, newPathPto.toNanos(),
                (validationTimeout != null ? validationTimeout
                        : Pto.validationTimeout(currentPathPto, maxAckDelay)).toNanos(), random);
        path.smallChallengeSent = false;
        challenge(path, path.validation.challengeToSend(nowNanos), actions);
    }

    /**
     * The budget a path needs for a challenge in a datagram of 1200 bytes: the datagram plus room for the largest
     * header and an ACK frame sent with it. At least what the sending side needs, so a challenge counted full size
     * here never leaves smaller.
     */
    static final int FULL_SIZE_CHALLENGE_BUDGET = 1200 + 64;

    private void challenge(ServerPathTable.PathState path, byte[] data, List<ServerPathAction> actions) {
        if (path.budget.remaining() < FULL_SIZE_CHALLENGE_BUDGET) {
            path.smallChallengeSent = true;
        }
        actions.add(new ServerPathAction.SendPathChallenge(path.tuple, data));
    }
}
