package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import org.quicmigration.core.Tuple;

/**
 * Invariants of the server side of RFC 9000 9.3, checked after every input of random sequences: datagrams from a
 * small pool of client addresses (so paths repeat), floods of fresh addresses, NAT rebindings (a new port only),
 * probing and non-probing packets, the client's PATH_CHALLENGE frames, PATH_RESPONSE frames with right, wrong and
 * late data, sends on any path, and timers in virtual time.
 *
 * <p>The harness performs the actions as the binding does: a challenge leaves in a datagram of 1200 bytes, or as
 * large as the path's budget allows when that is less; a client's challenge is answered on the path it came from,
 * within the budget. Every byte sent goes through {@link ServerPathManager#canSend}. Answering the client's
 * challenges (RFC 9000 8.2.2) is the binding's work: the manager has no output for it, so it is not checked here.
 */
class ServerPathManagerProperties {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    /** One of the server's preferred addresses (RFC 9000 9.6): a path there has another local address. */
    private static final InetSocketAddress PREFERRED = new InetSocketAddress("127.0.0.4", 4434);
    private static final Tuple HANDSHAKE = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5000));
    private static final String[] HOSTS = {"127.0.0.2", "127.0.0.3", "127.0.0.66"};
    private static final int[] PORTS = {5000, 5001, 6000};
    /** The pool: a client address per host and port. */
    private static final InetSocketAddress[][] CLIENTS = new InetSocketAddress[HOSTS.length][PORTS.length];
    private static final int FULL_SIZE = 1200;
    /** The smallest datagram a path frame fits in, with a short header and its AEAD tag. */
    private static final int SMALLEST_PROBE = 40;

    static {
        for (int host = 0; host < HOSTS.length; host++) {
            for (int port = 0; port < PORTS.length; port++) {
                CLIENTS[host][port] = new InetSocketAddress(HOSTS[host], PORTS[port]);
            }
        }
    }

    // ---- properties ------------------------------------------------------------------------------------------

    /**
     * RFC 9000 8: "after receiving packets from an address that is not yet validated, an endpoint MUST limit the
     * amount of data it sends to the unvalidated address to three times the amount of data received from that
     * address." The factor is the one the manager was built with, 1 to 3.
     */
    @Property(tries = 200)
    void neverSendsMoreThanThreeTimesWhatItReceivedOnAnUnvalidatedPath(@ForAll("setups") Setup setup,
                                                                       @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            for (Tuple tuple : call.sentTo) {
                long received = call.server.received.getOrDefault(tuple, 0L);
                long sent = call.server.sentUnvalidated.getOrDefault(tuple, 0L);
                assertThat(sent).as("bytes sent to %s before it was validated, after %s; it sent %d bytes",
                        tuple, call.description, received).isLessThanOrEqualTo(setup.factor * received);
            }
        });
    }

    /**
     * RFC 9000 9.3.2: "an endpoint MUST revert to using the last validated peer address when validation of a new
     * peer address fails", once, to a path that is validated. And RFC 9000 9.3: the server "MUST initiate path
     * validation (Section 8.2) to verify the peer's ownership of the address if validation is not already
     * underway", so the path in use is at all times validated or being validated.
     */
    @Property(tries = 200)
    void afterAFailedValidationTheConnectionIsOnAValidatedPath(@ForAll("setups") Setup setup,
                                                               @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            ServerPathManager manager = call.server.manager;
            Tuple active = manager.activeTuple();
            if (call.actions.contains(new ServerPathAction.ValidationFailed(call.activeBefore))) {
                assertThat(manager.isValidated(active))
                        .as("the path in use, %s, after the validation of %s failed (%s)", active, call.activeBefore,
                                call.description).isTrue();
            }
            for (ServerPathAction action : call.actions) {
                if (action instanceof ServerPathAction.FellBack fellBack) {
                    assertThat(fellBack.failed()).as("the path left, %s", call.description)
                            .isEqualTo(call.activeBefore);
                    assertThat(fellBack.restored()).as("the path restored, %s", call.description).isEqualTo(active);
                    assertThat(call.actions).as("the fall back sends on the restored path (%s)", call.description)
                            .contains(new ServerPathAction.SendOn(active, false));
                }
            }
            assertThat(manager.isValidated(active) || manager.isValidating(active))
                    .as("the path in use, %s, is validated or being validated, after %s", active, call.description)
                    .isTrue();
        });
    }

    /** However many addresses a client (or an attacker replaying its packets) hops over, state stays bounded. */
    @Property(tries = 200)
    void tracksNoMorePathsThanItsBoundUnderAnAddressFlood(@ForAll("setups") Setup setup,
                                                          @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> assertThat(call.server.manager.trackedPaths())
                .as("paths tracked with a bound of %d, after %s", setup.maxPaths, call.description)
                .isLessThanOrEqualTo(setup.maxPaths));
    }

    /**
     * RFC 9000 8.2.1: "When an endpoint is unable to expand the datagram size to 1200 bytes due to the
     * anti-amplification limit, the path MTU will not be validated. To ensure that the path MTU is large enough,
     * the endpoint MUST perform a second path validation by sending a PATH_CHALLENGE frame in a datagram of at
     * least 1200 bytes."
     */
    @Property(tries = 200)
    void aPathValidatedThroughASmallChallengeIsValidatedAgainAtFullSize(@ForAll("setups") Setup setup,
                                                                       @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            if (call.answered == null || call.server.sentSize.get(call.answered) >= FULL_SIZE) {
                return;
            }
            for (int i = 0; i < call.actions.size(); i++) {
                if (call.actions.get(i) instanceof ServerPathAction.PathValidated validated) {
                    Tuple tuple = validated.tuple();
                    List<Integer> sizes = new ArrayList<>();
                    for (ServerPathAction later : call.actions.subList(i + 1, call.actions.size())) {
                        if (later instanceof ServerPathAction.SendPathChallenge challenge
                                && challenge.tuple().equals(tuple)) {
                            sizes.add(call.server.sentSize.getOrDefault(key(challenge.data()), 0));
                        }
                    }
                    assertThat(sizes).as("datagrams of the second validation of %s, validated by a challenge of %d "
                                    + "bytes (%s)", tuple, call.server.sentSize.get(call.answered), call.description)
                            .containsExactly(FULL_SIZE);
                }
            }
        });
    }

    /**
     * RFC 9000 9.3.3: "In response to an apparent migration, endpoints MUST validate the previously active path
     * using a PATH_CHALLENGE frame."
     */
    @Property(tries = 200)
    void aMoveToANewAddressValidatesThePreviouslyActivePath(@ForAll("setups") Setup setup,
                                                            @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            if (call.kind == Kind.DATAGRAM && !call.server.manager.activeTuple().equals(call.activeBefore)) {
                assertThat(call.server.manager.isValidating(call.activeBefore))
                        .as("validation of the path left, %s, after %s", call.activeBefore, call.description).isTrue();
            }
        });
    }

    /**
     * RFC 9000 9.3: "An endpoint only changes the address to which it sends packets in response to the
     * highest-numbered non-probing packet." So the connection moves only to the path of the last non-probing packet
     * with the highest packet number, at once or, at a preferred address, once that path is validated (9.6.2); or
     * back to the last validated path when a validation fails (9.3.2).
     */
    @Property(tries = 200)
    void movesOnlyToThePathOfTheHighestNumberedNonProbingPacket(@ForAll("setups") Setup setup,
                                                                @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            Tuple active = call.server.manager.activeTuple();
            if (active.equals(call.activeBefore)
                    || call.actions.stream().anyMatch(a -> a instanceof ServerPathAction.FellBack)) {
                return;
            }
            assertThat(active).as("the path moved to by %s; the last non-probing packet with the highest number came "
                    + "from %s", call.description, call.server.lastNonProbing).isEqualTo(call.server.lastNonProbing);
        });
    }

    /**
     * RFC 9000 9.5: "an endpoint MUST NOT reuse a connection ID when sending to more than one destination address.
     * Due to network changes outside the control of its peer, an endpoint might receive packets from a new source
     * address with the same Destination Connection ID field value, in which case it MAY continue to use the current
     * connection ID with the new remote address".
     */
    @Property(tries = 200)
    void aClientThatChangedItsConnectionIdIsFollowedWithAFreshOneOfItsOwn(@ForAll("setups") Setup setup,
                                                                          @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            Tuple active = call.server.manager.activeTuple();
            if (call.kind != Kind.DATAGRAM || active.equals(call.activeBefore)) {
                return;
            }
            assertThat(call.actions).as("a client that %s its ID (%s)", call.keptId ? "kept" : "changed",
                    call.description).contains(new ServerPathAction.SendOn(active, !call.keptId));
        });
    }

    /**
     * RFC 9000 8.2.3: "Path validation succeeds when a PATH_RESPONSE frame is received that contains the data that
     * was sent in a previous PATH_CHALLENGE frame. A PATH_RESPONSE frame received on any network path validates the
     * path on which the PATH_CHALLENGE was sent." Anything else validates nothing, and a late answer to a
     * validation that has ended changes nothing.
     */
    @Property(tries = 200)
    void onlyTheDataOfAnOutstandingChallengeValidatesAndOnlyItsOwnPath(@ForAll("setups") Setup setup,
                                                                       @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            if (call.kind != Kind.RESPONSE) {
                return;
            }
            Tuple challenged = call.answered == null ? null : call.server.challengedPath.get(call.answered);
            for (ServerPathAction action : call.actions) {
                if (action instanceof ServerPathAction.PathValidated validated) {
                    assertThat(validated.tuple()).as("the path validated by %s", call.description)
                            .isEqualTo(challenged);
                    assertThat(call.validatingBefore).as("paths being validated before %s", call.description)
                            .contains(challenged);
                }
            }
            if (challenged == null || !call.validatingBefore.contains(challenged)) {
                assertThat(call.actions).as("what %s does", call.description).isEmpty();
            }
        });
    }

    /**
     * RFC 9000 8.2.1: "The endpoint MUST use unpredictable data in every PATH_CHALLENGE frame so that it can
     * associate the peer's response with the corresponding PATH_CHALLENGE." Fresh data every time, and only on a
     * path the manager is validating.
     */
    @Property(tries = 200)
    void everyChallengeCarriesFreshDataOnAPathBeingValidated(@ForAll("setups") Setup setup,
                                                              @ForAll("steps") List<Step> steps) {
        Set<String> seen = new HashSet<>();
        run(setup, steps, call -> {
            for (ServerPathAction action : call.actions) {
                if (action instanceof ServerPathAction.SendPathChallenge challenge) {
                    assertThat(challenge.data()).as("challenge data (%s)", call.description).hasSize(8);
                    assertThat(seen.add(key(challenge.data()))).as("data %s used before (%s)", key(challenge.data()),
                            call.description).isTrue();
                    assertThat(call.server.manager.isValidating(challenge.tuple()))
                            .as("%s challenged while not being validated (%s)", challenge.tuple(), call.description)
                            .isTrue();
                }
            }
        });
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    /** How the manager is configured. */
    record Setup(int factor, int maxPaths, long timeoutMillis, long ptoMillis) {
    }

    /** One input of a sequence. */
    sealed interface Step {
    }

    /** A datagram from a client address of the pool, to our handshake or our preferred address. */
    record Datagram(int host, int port, boolean toPreferred, int bytes, boolean nonProbing, boolean highest,
                    boolean keptId, boolean withChallenge) implements Step {
    }

    /** Datagrams from {@code count} addresses never seen before. */
    record Flood(int count, int bytes, boolean nonProbing) implements Step {
    }

    /** The client's NAT gives its binding a new port: a non-probing datagram with the same connection ID. */
    record Rebind(int bytes) implements Step {
    }

    /** A PATH_RESPONSE echoing a challenge sent before (any, so late ones too), or wrong data. */
    record Response(int which, Answer answer) implements Step {
    }

    enum Answer { RIGHT, ONE_BIT_WRONG, RANDOM }

    /** Time passes and the timer fires. */
    record Advance(int millis) implements Step {
    }

    /** The timer fires at the time the manager asked for. */
    record DueTimer() implements Step {
    }

    /** The connection sends {@code bytes} to a pool address, or on the active path. */
    record Send(int host, int port, boolean toActive, int bytes) implements Step {
    }

    /**
     * Bounds of 3 paths and more: with 2 the bound does not hold while a validation runs (the disabled
     * {@code ServerPathManagerTest.withTwoPathsTrackedANewAddressDuringAValidationKeepsTheBound}).
     */
    @Provide
    Arbitrary<Setup> setups() {
        return Combinators.combine(Arbitraries.integers().between(1, 3), Arbitraries.integers().between(3, 8),
                        Arbitraries.frequencyOf(weight(2, Arbitraries.just(0L)),
                                weight(1, Arbitraries.longs().between(50, 5_000))),
                        Arbitraries.longs().between(1, 400))
                .as(Setup::new);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Integer> bytes = Arbitraries.frequencyOf(
                weight(2, Arbitraries.integers().between(20, 120)),
                weight(2, Arbitraries.integers().between(1200, 1500)),
                weight(1, Arbitraries.integers().between(121, 1199)));
        Arbitrary<Integer> host = Arbitraries.integers().between(0, HOSTS.length - 1);
        Arbitrary<Integer> port = Arbitraries.integers().between(0, PORTS.length - 1);
        Arbitrary<Boolean> mostly = Arbitraries.frequency(weight(4, true), weight(1, false));
        Arbitrary<Boolean> rarely = mostly.map(b -> !b);
        Arbitrary<Step> datagram = Combinators.combine(host, port, rarely, bytes, mostly, mostly,
                        Arbitraries.of(true, false), rarely)
                .as(Datagram::new);
        Arbitrary<Step> flood = Combinators.combine(Arbitraries.integers().between(1, 40), bytes,
                Arbitraries.of(true, false)).as(Flood::new);
        Arbitrary<Step> rebind = bytes.map(Rebind::new);
        Arbitrary<Step> response = Combinators.combine(Arbitraries.integers().between(0, 1_000),
                Arbitraries.frequency(weight(4, Answer.RIGHT), weight(1, Answer.ONE_BIT_WRONG),
                        weight(1, Answer.RANDOM))).as(Response::new);
        Arbitrary<Step> advance = Arbitraries.integers().between(1, 4_000).map(Advance::new);
        Arbitrary<Step> due = Arbitraries.just(new DueTimer());
        Arbitrary<Step> send = Combinators.combine(host, port, mostly, Arbitraries.integers().between(1, 3_000))
                .as(Send::new);
        return Arbitraries.frequencyOf(
                        weight(10, datagram),
                        weight(1, flood),
                        weight(2, rebind),
                        weight(6, response),
                        weight(3, advance),
                        weight(3, due),
                        weight(4, send))
                .list().ofMinSize(8).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    /** {@code value} with {@code weight}, for {@link Arbitraries#frequency} and {@link Arbitraries#frequencyOf}. */
    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> weight(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    // ---- the harness -----------------------------------------------------------------------------------------

    enum Kind { DATAGRAM, CHALLENGE, RESPONSE, TIMER, SEND }

    /** One call into the manager and what came of it, for the invariants. */
    static final class Call {
        final Server server;
        final Kind kind;
        /** What the call was, built only when an assertion fails. */
        final Object description;
        final Tuple activeBefore;
        final Set<Tuple> validatingBefore;
        final boolean keptId;
        /** For a response: the key of the challenge it echoes, if it echoes one sent. */
        final String answered;
        List<ServerPathAction> actions = List.of();
        /** The paths something was sent to during the call. */
        final Set<Tuple> sentTo = new HashSet<>();

        Call(Server server, Kind kind, Object description, boolean keptId, String answered) {
            this.server = server;
            this.kind = kind;
            this.description = description;
            this.keptId = keptId;
            this.answered = answered;
            this.activeBefore = server.manager.activeTuple();
            server.current = this;
            this.validatingBefore = new HashSet<>();
            if (kind == Kind.RESPONSE) {
                for (Tuple tuple : server.challengedPath.values()) {
                    if (server.manager.isValidating(tuple)) {
                        validatingBefore.add(tuple);
                    }
                }
            }
        }
    }

    /** The manager, the network around it, and what was sent and received per path. */
    static final class Server {
        final ServerPathManager manager;
        final Duration pto;
        final Consumer<Call> invariant;
        final Map<Tuple, Long> received = new HashMap<>();
        final Map<Tuple, Long> sentUnvalidated = new HashMap<>();
        /** Challenges that left: the path each was sent on and its datagram's size. */
        final Map<String, Tuple> challengedPath = new HashMap<>();
        final Map<String, Integer> sentSize = new HashMap<>();
        final List<byte[]> challengesSent = new ArrayList<>();
        final SplittableRandom wrongData = new SplittableRandom(3);
        /** Where the last non-probing datagram with the highest packet number so far came from. */
        Tuple lastNonProbing = HANDSHAKE;
        long now;
        int fresh;
        int stepIndex;
        Step step;
        Call current;

        Server(Setup setup, Consumer<Call> invariant) {
            Duration timeout = setup.timeoutMillis == 0 ? null : Duration.ofMillis(setup.timeoutMillis);
            this.manager = new ServerPathManager(HANDSHAKE, setup.factor, setup.maxPaths, Duration.ofMillis(25),
                    timeout, ServerPathManager.DEFAULT_MEMORY, new SplittableRandom(setup.hashCode()));
            this.pto = Duration.ofMillis(setup.ptoMillis);
            this.invariant = invariant;
        }

        void apply(Step step) {
            this.step = step;
            if (step instanceof Datagram d) {
                Tuple tuple = new Tuple(d.toPreferred ? PREFERRED : SERVER, CLIENTS[d.host][d.port]);
                datagram(tuple, d.bytes, d.nonProbing, d.highest, d.keptId);
                if (d.withChallenge) {
                    challenge(tuple);
                }
            } else if (step instanceof Flood f) {
                for (int i = 0; i < f.count; i++) {
                    fresh++;
                    Tuple tuple = new Tuple(SERVER, new InetSocketAddress("10.0." + (fresh / 250) + "." + (fresh % 250),
                            10_000 + fresh));
                    datagram(tuple, f.bytes, f.nonProbing, true, false);
                }
            } else if (step instanceof Rebind r) {
                fresh++;
                Tuple active = manager.activeTuple();
                Tuple rebound = new Tuple(active.local(),
                        new InetSocketAddress(active.remote().getAddress(), 20_000 + fresh));
                datagram(rebound, r.bytes, true, true, true);
            } else if (step instanceof Response r) {
                if (r.answer == Answer.RANDOM || challengesSent.isEmpty()) {
                    byte[] data = new byte[8];
                    wrongData.nextBytes(data);
                    response(data);
                } else {
                    byte[] data = challengesSent.get(r.which % challengesSent.size()).clone();
                    if (r.answer == Answer.ONE_BIT_WRONG) {
                        data[r.which % 8] ^= (byte) (1 << (r.which % 7));
                    }
                    response(data);
                }
            } else if (step instanceof Advance a) {
                now += a.millis * MS;
                timer();
            } else if (step instanceof DueTimer t) {
                long next = manager.nextTimerNanos();
                if (next != Long.MAX_VALUE) {
                    now = Math.max(now, next);
                    timer();
                }
            } else if (step instanceof Send s) {
                Tuple tuple = s.toActive ? manager.activeTuple() : new Tuple(SERVER, CLIENTS[s.host][s.port]);
                Call call = new Call(this, Kind.SEND, describe(() -> "send of " + s.bytes + " bytes to " + tuple),
                        false, null);
                send(tuple, s.bytes);
                invariant.accept(call);
            }
        }

        private void datagram(Tuple tuple, int bytes, boolean nonProbing, boolean highest, boolean keptId) {
            Call call = new Call(this, Kind.DATAGRAM, describe(() -> (nonProbing ? "non-probing" : "probing")
                    + " datagram of " + bytes + " bytes from " + tuple
                    + (highest ? "" : " (not the highest packet number)")
                    + (keptId ? ", same connection ID" : ", new connection ID")), keptId, null);
            received.merge(tuple, (long) bytes, Long::sum);
            if (nonProbing && highest) {
                lastNonProbing = tuple;
            }
            call.actions = manager.onDatagram(now, tuple, bytes, nonProbing, highest, keptId, pto);
            perform(call);
        }

        /**
         * The client's PATH_CHALLENGE came with the datagram from {@code tuple}. As in the binding, what the manager
         * decides goes out first, then the answer, on the path the challenge came from and within its budget.
         */
        private void challenge(Tuple tuple) {
            Call call = new Call(this, Kind.CHALLENGE, describe(() -> "PATH_CHALLENGE from " + tuple), false, null);
            call.actions = manager.onPathChallenge(now, tuple, pto);
            sendChallenges(call);
            send(tuple, (int) Math.min(FULL_SIZE, Math.max(SMALLEST_PROBE, manager.remainingBudget(tuple))));
            invariant.accept(call);
        }

        private void response(byte[] data) {
            String answered = challengedPath.containsKey(key(data)) ? key(data) : null;
            Call call = new Call(this, Kind.RESPONSE, describe(() -> "PATH_RESPONSE " + key(data)
                    + (answered == null ? " (matches no challenge sent)"
                    : " (for " + challengedPath.get(answered) + ")")),
                    false, answered);
            call.actions = manager.onPathResponse(now, data);
            perform(call);
        }

        private void timer() {
            Call call = new Call(this, Kind.TIMER, describe(() -> "timer"), false, null);
            call.actions = manager.onTimer(now);
            perform(call);
        }

        private void perform(Call call) {
            sendChallenges(call);
            invariant.accept(call);
        }

        /** Sends each challenge as the binding does: in 1200 bytes, or what the budget allows. */
        private void sendChallenges(Call call) {
            for (ServerPathAction action : call.actions) {
                if (action instanceof ServerPathAction.SendPathChallenge challenge) {
                    Tuple tuple = challenge.tuple();
                    int size = (int) Math.min(FULL_SIZE, Math.max(SMALLEST_PROBE, manager.remainingBudget(tuple)));
                    if (send(tuple, size)) {
                        manager.challengeLeft(now, challenge.data());
                        challengedPath.put(key(challenge.data()), tuple);
                        sentSize.put(key(challenge.data()), size);
                        challengesSent.add(challenge.data());
                    }
                }
            }
        }

        private boolean send(Tuple tuple, int bytes) {
            current.sentTo.add(tuple);
            boolean validated = manager.isValidated(tuple);
            if (!manager.canSend(tuple, bytes)) {
                return false;
            }
            if (!validated) {
                sentUnvalidated.merge(tuple, (long) bytes, Long::sum);
            }
            return true;
        }

        private Object describe(java.util.function.Supplier<String> what) {
            long at = now;
            int index = stepIndex;
            Step during = step;
            return new Object() {
                @Override
                public String toString() {
                    return what.get() + " at " + at / MS + " ms (step " + index + ", " + during + ")";
                }
            };
        }
    }

    private static void run(Setup setup, List<Step> steps, Consumer<Call> invariant) {
        Server server = new Server(setup, invariant);
        for (int i = 0; i < steps.size(); i++) {
            server.stepIndex = i;
            server.apply(steps.get(i));
        }
    }

    static String key(byte[] data) {
        return HexFormat.of().formatHex(data);
    }
}
