package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;

/**
 * Invariants of the client side of RFC 9000 9, checked after every input of random sequences: migrations of both
 * strategies (switch first, validate first) to a pool of local addresses (other networks, and the same address on
 * another port), some refused; PATH_RESPONSE frames with right, wrong and late data; timers in virtual time; sockets
 * that fail and work again; a standby path added, probed, moved to and removed; and a server that issues connection IDs as RFC 9000 5.1 lets it: in order or late,
 * repeated, with retire_prior_to that stays or grows, never more than our active_connection_id_limit.
 *
 * <p>The harness performs the actions: it opens a path's socket when a migration to it starts and closes it on
 * {@link MigrationAction.ClosePath}, and delivers the RETIRE_CONNECTION_ID frames to the server at once.
 */
class ClientMigratorProperties {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    /** The server's preferred address (RFC 9000 9.6): a migration there changes the remote address too. */
    private static final InetSocketAddress SERVER_PREFERRED = new InetSocketAddress("127.0.0.5", 4434);
    private static final Tuple[] POOL = {
            new Tuple(new InetSocketAddress("127.0.0.2", 5000), SERVER),
            new Tuple(new InetSocketAddress("127.0.0.2", 5001), SERVER),
            new Tuple(new InetSocketAddress("127.0.0.3", 6000), SERVER),
            new Tuple(new InetSocketAddress("127.0.0.3", 6001), SERVER),
            new Tuple(new InetSocketAddress("127.0.0.4", 7000), SERVER),
            new Tuple(new InetSocketAddress("127.0.0.2", 5002), SERVER_PREFERRED),
    };
    private static final Duration MAX_ACK_DELAY = Duration.ofMillis(25);

    // ---- properties ------------------------------------------------------------------------------------------

    /**
     * Every migration that starts ends in exactly one outcome, whose flags agree with where the connection is and
     * with the last state reported; no migration is left running once its timers have run out.
     */
    @Property(tries = 200)
    void everyMigrationEndsInExactlyOneOutcome(@ForAll("setups") Setup setup, @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            List<MigrationOutcome> outcomes = new ArrayList<>();
            for (MigrationAction action : call.actions) {
                if (action instanceof MigrationAction.Finished finished) {
                    outcomes.add(finished.outcome());
                }
            }
            if (outcomes.isEmpty()) {
                assertThat(call.client.migrator.inProgress()).as("a migration in progress after %s", call)
                        .isEqualTo(call.client.attempt != null);
                return;
            }
            assertThat(outcomes).as("outcomes of %s", call).hasSize(1);
            Attempt attempt = call.attemptBefore != null ? call.attemptBefore : call.started;
            assertThat(attempt).as("the migration that ended with %s", call).isNotNull();
            MigrationOutcome outcome = outcomes.get(0);
            if (call.attemptBefore == null) {
                assertThat(attempt.to).as("a migration that ends as it starts goes to the standby, %s", call)
                        .isEqualTo(call.standbyBefore);
                assertThat(outcome.validated()).as("the move to a ready standby, %s", call).isTrue();
            }
            Tuple active = call.client.migrator.activeTuple();
            assertThat(outcome.oldTuple()).isEqualTo(attempt.from);
            assertThat(outcome.newTuple()).isEqualTo(attempt.to);
            assertThat(outcome.validated() && outcome.fellBack()).as("validated and fell back, %s", call).isFalse();
            assertThat(call.client.migrator.inProgress()).as("in progress after its outcome, %s", call).isFalse();
            MigrationState last = attempt.state;
            if (outcome.validated()) {
                assertThat(active).as("the path in use after a validated migration, %s", call).isEqualTo(attempt.to);
                assertThat(last).isEqualTo(MigrationState.MIGRATION_COMPLETE);
            } else if (outcome.fellBack()) {
                assertThat(attempt.mode).isEqualTo(MigrationMode.SWITCH_THEN_VALIDATE);
                assertThat(active).as("the path in use after falling back, %s", call).isEqualTo(attempt.from);
                assertThat(last).isEqualTo(MigrationState.MIGRATION_ABANDONED);
            } else if (attempt.mode == MigrationMode.VALIDATE_THEN_SWITCH) {
                assertThat(active).as("the path in use after a failed probe, %s", call).isEqualTo(attempt.from);
                assertThat(last).isEqualTo(MigrationState.PROBING_ABANDONED);
            } else {
                assertThat(active).as("the path in use when the old one failed, %s", call).isEqualTo(attempt.to);
            }
        });
    }

    /**
     * RFC 9000 9.3.2, which the client mirrors: "an endpoint MUST revert to using the last validated peer address
     * when validation of a new peer address fails". The one exception is a path whose network is gone (its socket
     * failed): then the connection stays on the new path, as there is nothing to go back to.
     */
    @Property(tries = 200)
    void afterAFailedValidationTheConnectionIsOnAValidatedPath(@ForAll("setups") Setup setup,
                                                               @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            Tuple active = call.client.migrator.activeTuple();
            if (call.outcome == null || call.outcome.validated()) {
                return;
            }
            if (call.failedBefore.contains(call.outcome.oldTuple())
                    && call.attemptBefore.mode == MigrationMode.SWITCH_THEN_VALIDATE) {
                assertThat(active).as("the path in use when the old path failed, %s", call)
                        .isEqualTo(call.outcome.newTuple());
            } else {
                assertThat(active).as("the path in use after %s", call).isEqualTo(call.outcome.oldTuple());
                assertThat(call.client.validated.contains(active) || active.equals(call.client.keptUnvalidated))
                        .as("%s is validated, or was kept as its predecessor's network was gone (%s)", active, call)
                        .isTrue();
            }
        });
    }

    /**
     * One migration at a time: a request while one runs is refused as such, and every refusal has its reason and
     * changes nothing. RFC 9000 9: "An endpoint MUST NOT initiate connection migration before the handshake is
     * confirmed". RFC 9000 18.2 (disable_active_migration): "An endpoint that receives this transport parameter
     * MUST NOT use a new local address when sending to the address that the peer used during the handshake."
     */
    @Property(tries = 200)
    void neverRunsTwoMigrationsAtOnceAndRefusesOnlyForAReason(@ForAll("setups") Setup setup,
                                                              @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            long starts = call.actions.stream()
                    .filter(a -> a instanceof MigrationAction.StateChanged s && s.from() == null).count();
            assertThat(starts).as("migrations started by %s", call).isLessThanOrEqualTo(1);
            if (starts == 1) {
                assertThat(call.attemptBefore).as("a migration running when %s", call).isNull();
            }
            if (call.refusal != null && call.step instanceof AddStandby) {
                MigrationRefusal expected = call.standbyBefore != null ? MigrationRefusal.STANDBY_EXISTS
                        : call.attemptBefore != null ? MigrationRefusal.MIGRATION_IN_PROGRESS
                        : MigrationRefusal.NO_SPARE_CONNECTION_ID;
                assertThat(call.refusal).as("the refusal of %s", call).isEqualTo(expected);
                assertThat(call.actions).isEmpty();
                return;
            }
            if (call.refusal != null) {
                Migrate m = (Migrate) call.step;
                MigrationRefusal expected = call.attemptBefore != null ? MigrationRefusal.MIGRATION_IN_PROGRESS
                        : m.peerDisabledMigration && POOL[m.to].remote().equals(call.activeBefore.remote())
                        ? MigrationRefusal.PEER_DISABLED_MIGRATION
                        : !m.handshakeConfirmed ? MigrationRefusal.HANDSHAKE_NOT_CONFIRMED
                        : MigrationRefusal.NO_SPARE_CONNECTION_ID;
                assertThat(call.refusal).as("the refusal of %s", call).isEqualTo(expected);
                if (expected == MigrationRefusal.NO_SPARE_CONNECTION_ID) {
                    assertThat(call.spareBefore).as("spare IDs when %s", call).isZero();
                }
                assertThat(call.client.migrator.activeTuple()).as("path in use after %s", call)
                        .isEqualTo(call.activeBefore);
                assertThat(call.client.peerIds.spareCount()).as("spare IDs after %s", call).isEqualTo(call.spareBefore);
                assertThat(call.actions).isEmpty();
            }
        });
    }

    /**
     * No action names a path that does not exist: data, challenges and state changes go to the path of the migration
     * or the path in use, a path is closed once and never while in use, and a recovery reset is for the path the
     * connection moves to.
     */
    @Property(tries = 200)
    void noActionRefersToAPathThatDoesNotExist(@ForAll("setups") Setup setup, @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            Set<Tuple> open = new HashSet<>(call.openBefore);
            Tuple to = call.attemptBefore != null ? call.attemptBefore.to
                    : call.started != null ? call.started.to
                    : call.client.attempt != null ? call.client.attempt.to : null;
            Tuple standby = call.standbyBefore != null ? call.standbyBefore : call.client.standby;
            if (standby != null) {
                open.add(standby);
            }
            if (to != null) {
                open.add(to);
            }
            Tuple active = call.client.migrator.activeTuple();
            for (MigrationAction action : call.actions) {
                if (action instanceof MigrationAction.UsePath use) {
                    assertThat(open).as("open paths, one of which %s uses (%s)", action, call).contains(use.tuple());
                } else if (action instanceof MigrationAction.SendPathChallenge challenge) {
                    assertThat(challenge.tuple()).as("the path of %s (%s)", action, call).isIn(to, standby);
                    assertThat(open).as("open paths (%s)", call).contains(challenge.tuple());
                } else if (action instanceof MigrationAction.StandbyChanged changed) {
                    assertThat(changed.tuple()).as("%s (%s)", action, call).isEqualTo(standby);
                } else if (action instanceof MigrationAction.ClosePath close) {
                    assertThat(open.remove(close.tuple())).as("%s closes an open path (%s)", action, call).isTrue();
                    assertThat(close.tuple()).as("the path in use after %s", call).isNotEqualTo(active);
                } else if (action instanceof MigrationAction.ResetRecovery reset) {
                    assertThat(reset.tuple()).as("%s (%s)", action, call).isEqualTo(active);
                } else if (action instanceof MigrationAction.StateChanged changed) {
                    assertThat(changed.tuple()).as("%s (%s)", action, call).isEqualTo(to);
                }
            }
            assertThat(open).as("open paths after %s", call).contains(active);
        });
    }

    /**
     * RFC 9000 9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one local address". RFC
     * 9000 5.1.2: "Sending a RETIRE_CONNECTION_ID frame indicates that the connection ID will not be used again", and
     * "Upon receipt of an increased Retire Prior To field, the peer MUST stop using the corresponding connection IDs".
     * So every ID an action uses is active and belongs to that path alone, an ID is retired only once no open path
     * uses it, and a retired ID is never used again.
     */
    @Property(tries = 200)
    void aPeerIdIsUsedOnOnePathOnlyAndNeverAfterItIsRetired(@ForAll("setups") Setup setup,
                                                            @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            Client client = call.client;
            Set<Long> inUse = new HashSet<>();
            for (Tuple tuple : client.open) {
                Optional<PeerConnectionIds.Entry> current = client.peerIds.current(tuple);
                assertThat(current).as("the ID of open path %s after %s", tuple, call).isPresent();
                assertThat(inUse.add(current.get().sequence())).as("sequence %d on two open paths after %s",
                        current.get().sequence(), call).isTrue();
            }
            for (MigrationAction action : call.actions) {
                if (action instanceof MigrationAction.RetirePeerId retire) {
                    assertThat(client.retired.add(retire.sequence()))
                            .as("sequence %d retired a second time by %s", retire.sequence(), call).isTrue();
                }
            }
            for (long sequence : inUse) {
                assertThat(client.retired).as("retired sequences, one of which an open path uses after %s", call)
                        .doesNotContain(sequence);
            }
            for (MigrationAction action : call.actions) {
                ConnectionId id = null;
                Tuple tuple = null;
                if (action instanceof MigrationAction.UsePath use) {
                    id = use.peerId().id();
                    tuple = use.tuple();
                } else if (action instanceof MigrationAction.SendPathChallenge challenge) {
                    id = challenge.peerId();
                    tuple = challenge.tuple();
                }
                if (id != null) {
                    assertThat(client.retiredIds()).as("retired IDs, one of which %s uses (%s)", action, call)
                            .doesNotContain(id);
                    Optional<PeerConnectionIds.Entry> current = client.peerIds.current(tuple);
                    assertThat(current.map(PeerConnectionIds.Entry::id)).as("the ID of %s, which %s uses (%s)", tuple,
                            action, call).contains(id);
                }
            }
            assertThat(client.peerIds.activeCount()).as("active peer IDs after %s", call)
                    .isLessThanOrEqualTo(setup.limit);
        });
    }

    /**
     * A standby is ready only once a response to one of its own challenges arrived; a move to a ready standby is
     * complete in the same call, validated, with no challenge (RFC 9000 9.3: "An endpoint MAY skip validation of a
     * peer address if that address has been seen recently"); and while the standby holds the only spare ID, a move
     * anywhere else is refused.
     */
    @Property(tries = 200)
    void aStandbyIsReadyOnlyOnceItAnsweredAndTheMoveToItIsImmediate(@ForAll("setups") Setup setup,
                                                                   @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> {
            for (MigrationAction action : call.actions) {
                if (action instanceof MigrationAction.StandbyChanged changed
                        && changed.state() == StandbyState.READY) {
                    assertThat(call.step).as("what made the standby ready: %s", call).isInstanceOf(Response.class);
                    assertThat(call.client.standbyChallenges).as("the standby's challenges, one answered by %s", call)
                            .anyMatch(data -> java.util.Arrays.equals(data, call.responseData));
                }
            }
            if (call.step instanceof Migrate && call.started != null && call.started.to.equals(call.standbyBefore)
                    && call.standbyStateBefore == StandbyState.READY) {
                assertThat(call.outcome).as("the outcome of %s", call).isNotNull();
                assertThat(call.outcome.validated()).isTrue();
                assertThat(call.actions).as("%s", call).noneMatch(MigrationAction.SendPathChallenge.class::isInstance);
                assertThat(call.client.migrator.activeTuple()).isEqualTo(call.standbyBefore);
            }
            if (call.step instanceof Migrate m && call.standbyBefore != null && !POOL[m.to].equals(call.standbyBefore)
                    && call.spareBefore == 0 && call.attemptBefore == null && m.handshakeConfirmed
                    && !m.peerDisabledMigration) {
                assertThat(call.refusal).as("the refusal of %s", call).isEqualTo(MigrationRefusal.NO_SPARE_CONNECTION_ID);
            }
        });
    }

    /**
     * A server that keeps the rules of RFC 9000 5.1.1 and 5.1.2 never makes the client close the connection: RFC 9000
     * 5.1.2: "This ordering allows an endpoint to replace all active connection IDs without the possibility of a
     * peer having no available connection IDs and without exceeding the limit the peer sets in the
     * active_connection_id_limit transport parameter". A frame that leaves fewer active IDs than paths in use
     * still closes it today, and ends a sequence without failing it: see the disabled example test
     * {@code ClientMigratorTest.aServerThatRetiresBothIdsOfAMigrationForOneNewIdLeavesTheConnectionOnItsPath}.
     */
    @Property(tries = 200)
    void connectionIdFramesThatKeepTheRulesNeverCloseTheConnection(@ForAll("setups") Setup setup,
                                                                  @ForAll("steps") List<Step> steps) {
        run(setup, steps, call -> assertThat(call.transportError).as("the error %s raised", call).isNull());
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    /** Our active_connection_id_limit, the spare IDs the server gave after the handshake, and the current PTO. */
    record Setup(int limit, int spares, long ptoMillis) {
    }

    sealed interface Step {
    }

    /** The application, or the policy, asks to move to {@code POOL[to]}. */
    record Migrate(int to, MigrationMode mode, boolean handshakeConfirmed, boolean peerDisabledMigration)
            implements Step {
    }

    /** A PATH_RESPONSE echoing a challenge sent before (any, so late ones too), or wrong data. */
    record Response(int which, Answer answer) implements Step {
    }

    enum Answer { RIGHT, ONE_BIT_WRONG, RANDOM }

    record Advance(int millis) implements Step {
    }

    record DueTimer() implements Step {
    }

    /** The socket of the path in use ({@code active}) or of the migration's new path fails, or works again. */
    record Socket(boolean active, boolean works) implements Step {
    }

    /**
     * The server sends NEW_CONNECTION_ID with its next sequence number, raising retire_prior_to by {@code raise}
     * (at most to that sequence number), if our limit allows; {@code late} holds the frame back until a
     * {@link Deliver}.
     */
    record NewId(int raise, boolean late) implements Step {
    }

    /** A NEW_CONNECTION_ID sent before arrives again (a retransmission). */
    record Repeat(int which) implements Step {
    }

    /** The oldest frame held back arrives. */
    record Deliver() implements Step {
    }

    /** The application keeps a standby on {@code POOL[to]}, probed every {@code intervalMillis} once it answered. */
    record AddStandby(int to, int intervalMillis) implements Step {
    }

    /** The application removes the standby. */
    record RemoveStandby() implements Step {
    }

    @Provide
    Arbitrary<Setup> setups() {
        return Combinators.combine(Arbitraries.integers().between(2, 6), Arbitraries.integers().between(0, 5),
                Arbitraries.longs().between(1, 400)).as(Setup::new);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Boolean> mostly = Arbitraries.frequency(weight(9, true), weight(1, false));
        Arbitrary<Step> migrate = Combinators.combine(Arbitraries.integers().between(0, POOL.length - 1),
                Arbitraries.of(MigrationMode.class), mostly, mostly.map(b -> !b)).as(Migrate::new);
        Arbitrary<Step> response = Combinators.combine(Arbitraries.integers().between(0, 1_000),
                Arbitraries.frequency(weight(4, Answer.RIGHT), weight(1, Answer.ONE_BIT_WRONG),
                        weight(1, Answer.RANDOM))).as(Response::new);
        Arbitrary<Step> advance = Arbitraries.integers().between(1, 4_000).map(Advance::new);
        Arbitrary<Step> socket = Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false))
                .as(Socket::new);
        Arbitrary<Step> newId = Combinators.combine(
                Arbitraries.frequency(weight(6, 0), weight(2, 1), weight(1, 2),
                        weight(1, 6)),
                Arbitraries.frequency(weight(5, false), weight(1, true))).as(NewId::new);
        return Arbitraries.frequencyOf(
                        weight(6, migrate),
                        weight(5, response),
                        weight(2, advance),
                        weight(3, Arbitraries.just(new DueTimer())),
                        weight(2, socket),
                        weight(5, newId),
                        weight(1, Arbitraries.integers().between(0, 100).map(Repeat::new)),
                        weight(1, Arbitraries.just(new Deliver())),
                        weight(2, Combinators.combine(Arbitraries.integers().between(0, POOL.length - 1),
                                Arbitraries.integers().between(100, 30_000)).as(AddStandby::new)),
                        weight(1, Arbitraries.just(new RemoveStandby())))
                .list().ofMinSize(8).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    /** {@code value} with {@code weight}, for {@link Arbitraries#frequency} and {@link Arbitraries#frequencyOf}. */
    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> weight(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    // ---- the harness -----------------------------------------------------------------------------------------

    /** A migration as the harness saw it start. */
    static final class Attempt {
        final Tuple from;
        final Tuple to;
        final MigrationMode mode;
        MigrationState state;

        Attempt(Tuple from, Tuple to, MigrationMode mode) {
            this.from = from;
            this.to = to;
            this.mode = mode;
        }
    }

    /** A NEW_CONNECTION_ID frame the server sent. */
    record Frame(long sequence, long retirePriorTo) {
    }

    /** One call into the migrator and what came of it. */
    static final class Call {
        final Client client;
        final Step step;
        final int index;
        final Tuple activeBefore;
        final Attempt attemptBefore;
        final Set<Tuple> openBefore;
        final Set<Tuple> failedBefore;
        final int spareBefore;
        final Tuple standbyBefore;
        final StandbyState standbyStateBefore;
        /** The migration this call started, if any. */
        Attempt started;
        byte[] responseData;
        List<MigrationAction> actions = List.of();
        MigrationRefusal refusal;
        MigrationOutcome outcome;
        TransportErrorException transportError;
        String what = "";

        Call(Client client, Step step, int index) {
            this.client = client;
            this.step = step;
            this.index = index;
            this.activeBefore = client.migrator.activeTuple();
            this.attemptBefore = client.attempt;
            this.openBefore = Set.copyOf(client.open);
            this.failedBefore = Set.copyOf(client.failed);
            this.spareBefore = client.peerIds.spareCount();
            this.standbyBefore = client.standby;
            this.standbyStateBefore = client.standbyState;
        }

        @Override
        public String toString() {
            return "step " + index + " " + step + what + ", on " + activeBefore + " -> " + actions;
        }
    }

    /** The migrator, its peer IDs, the server that issues them, and what the harness knows of the paths. */
    static final class Client {
        final Setup setup;
        final PeerConnectionIds peerIds;
        final ClientMigrator migrator;
        final Consumer<Call> invariant;
        final Duration pto;
        final SplittableRandom wrongData = new SplittableRandom(11);
        final Set<Tuple> open = new HashSet<>();
        final Set<Tuple> failed = new HashSet<>();
        final Set<Tuple> validated = new HashSet<>();
        /** The path the connection stayed on, unvalidated, because the path before it failed. */
        Tuple keptUnvalidated;
        final List<byte[]> challenges = new ArrayList<>();
        final Set<Long> retired = new TreeSet<>();
        Attempt attempt;
        /** The standby path and its last reported state, or null. */
        Tuple standby;
        StandbyState standbyState;
        final List<byte[]> standbyChallenges = new ArrayList<>();
        long now;
        // The server's side of the connection IDs.
        long nextSequence;
        long retirePriorTo;
        final Set<Long> issuedActive = new TreeSet<>();
        final List<Frame> sent = new ArrayList<>();
        final ArrayDeque<Frame> held = new ArrayDeque<>();
        /** The largest retire_prior_to the client received. */
        long largestRetirePriorTo;

        Client(Setup setup, Consumer<Call> invariant) {
            this.setup = setup;
            this.invariant = invariant;
            this.pto = Duration.ofMillis(setup.ptoMillis);
            peerIds = new PeerConnectionIds(setup.limit, id(0), null);
            peerIds.bind(POOL[0], 0);
            issuedActive.add(0L);
            nextSequence = 1;
            for (int i = 0; i < Math.min(setup.spares, setup.limit - 1); i++) {
                Frame frame = new Frame(nextSequence++, 0);
                issuedActive.add(frame.sequence);
                sent.add(frame);
                try {
                    peerIds.onNewConnectionId(frame.sequence, id(frame.sequence), token(frame.sequence), 0);
                } catch (TransportErrorException e) {
                    throw new AssertionError(e);
                }
            }
            migrator = new ClientMigrator(peerIds, POOL[0], MAX_ACK_DELAY, new SplittableRandom(setup.hashCode()));
            open.add(POOL[0]);
            validated.add(POOL[0]);
        }

        Set<ConnectionId> retiredIds() {
            Set<ConnectionId> ids = new HashSet<>();
            retired.forEach(sequence -> ids.add(id(sequence)));
            return ids;
        }

        void apply(int index, Step step) {
            Call call = new Call(this, step, index);
            if (step instanceof Migrate m) {
                Tuple to = POOL[m.to];
                if (to.equals(migrator.activeTuple())) {
                    return; // the caller never asks to move to the path in use
                }
                try {
                    call.actions = migrator.migrate(now, to, m.mode, m.handshakeConfirmed, m.peerDisabledMigration,
                            pto);
                    attempt = new Attempt(call.activeBefore, to, m.mode);
                    call.started = attempt;
                    open.add(to);
                } catch (MigrationRefusedException e) {
                    call.refusal = e.refusal();
                }
            } else if (step instanceof Response r) {
                byte[] data;
                if (r.answer == Answer.RANDOM || challenges.isEmpty()) {
                    data = new byte[8];
                    wrongData.nextBytes(data);
                } else {
                    data = challenges.get(r.which % challenges.size()).clone();
                    if (r.answer == Answer.ONE_BIT_WRONG) {
                        data[r.which % 8] ^= (byte) (1 << (r.which % 7));
                    }
                }
                call.what = " = " + HexFormat.of().formatHex(data);
                call.responseData = data;
                call.actions = migrator.onPathResponse(now, data);
            } else if (step instanceof Advance a) {
                now += a.millis * MS;
                call.actions = migrator.onTimer(now);
            } else if (step instanceof DueTimer) {
                long next = migrator.nextTimerNanos();
                if (next == Long.MAX_VALUE) {
                    return;
                }
                now = Math.max(now, next);
                call.actions = migrator.onTimer(now);
            } else if (step instanceof Socket s) {
                Tuple tuple = s.active || attempt == null ? migrator.activeTuple() : attempt.to;
                if (s.works) {
                    failed.remove(tuple);
                    migrator.onPathWorks(tuple);
                } else {
                    failed.add(tuple);
                    migrator.onPathFailed(0, tuple);
                }
            } else if (step instanceof NewId n) {
                long sequence = nextSequence;
                long raised = Math.min(retirePriorTo + n.raise, sequence);
                long keep = issuedActive.stream().filter(s -> s >= raised).count();
                if (keep + 1 > setup.limit) {
                    return; // RFC 9000 5.1.1: "An endpoint MUST NOT provide more connection IDs than the peer's limit."
                }
                nextSequence++;
                retirePriorTo = raised;
                issuedActive.removeIf(s -> s < raised);
                issuedActive.add(sequence);
                Frame frame = new Frame(sequence, raised);
                sent.add(frame);
                if (n.late) {
                    held.add(frame);
                    return;
                }
                receive(call, frame);
            } else if (step instanceof Repeat r) {
                if (sent.isEmpty()) {
                    return;
                }
                receive(call, sent.get(r.which % sent.size()));
            } else if (step instanceof Deliver) {
                if (held.isEmpty()) {
                    return;
                }
                receive(call, held.poll());
            } else if (step instanceof AddStandby a) {
                Tuple to = POOL[a.to];
                if (open.contains(to)) {
                    return; // the caller never keeps a standby on a path that has a socket already
                }
                try {
                    call.actions = migrator.addStandby(now, to, true, false, pto, Duration.ofMillis(a.intervalMillis));
                    open.add(to);
                    standby = to;
                    standbyChallenges.clear();
                } catch (MigrationRefusedException e) {
                    call.refusal = e.refusal();
                }
            } else if (step instanceof RemoveStandby) {
                call.actions = migrator.removeStandby();
            }
            perform(call);
        }

        private void receive(Call call, Frame frame) {
            call.what = " = " + frame;
            largestRetirePriorTo = Math.max(largestRetirePriorTo, frame.retirePriorTo);
            Set<Long> left = new HashSet<>();
            peerIds.active().forEach(entry -> left.add(entry.sequence()));
            left.add(frame.sequence);
            left.removeIf(sequence -> sequence < largestRetirePriorTo || retired.contains(sequence));
            // The standby gives its ID up first (ClientMigrator.onNewConnectionId), so it does not count here.
            int needing = open.size() - (standby != null && open.contains(standby) ? 1 : 0);
            if (left.size() < needing && attempt != null && attempt.mode == MigrationMode.SWITCH_THEN_VALIDATE
                    && migrator.activeTuple().equals(attempt.to)) {
                // Fewer IDs left than paths in use: the path the switch left keeps none, so there is nothing to go
                // back to, as if its socket had failed (ClientMigratorTest.aServerThatRetiresBothIds...).
                failed.add(attempt.from);
            }
            try {
                call.actions = migrator.onNewConnectionId(now, frame.sequence, id(frame.sequence), token(frame.sequence),
                        frame.retirePriorTo);
            } catch (TransportErrorException e) {
                call.transportError = e;
            }
        }

        private void perform(Call call) {
            for (MigrationAction action : call.actions) {
                if (action instanceof MigrationAction.SendPathChallenge challenge) {
                    challenges.add(challenge.data());
                    if (challenge.tuple().equals(standby)) {
                        standbyChallenges.add(challenge.data());
                    }
                    migrator.challengeLeft(now, challenge.data());
                } else if (action instanceof MigrationAction.StandbyChanged changed) {
                    standbyState = changed.state();
                    if (changed.state() == StandbyState.IN_USE || changed.state() == StandbyState.REMOVED) {
                        standby = null;
                        standbyState = null;
                    }
                } else if (action instanceof MigrationAction.ClosePath close) {
                    open.remove(close.tuple());
                } else if (action instanceof MigrationAction.RetirePeerId retire) {
                    issuedActive.remove(retire.sequence()); // the server learns at once
                } else if (action instanceof MigrationAction.StateChanged changed && attempt != null) {
                    attempt.state = changed.to();
                } else if (action instanceof MigrationAction.Finished finished) {
                    call.outcome = finished.outcome();
                    if (finished.outcome().validated()) {
                        validated.add(finished.outcome().newTuple());
                        keptUnvalidated = null;
                    } else if (!finished.outcome().fellBack()
                            && migrator.activeTuple().equals(finished.outcome().newTuple())) {
                        keptUnvalidated = finished.outcome().newTuple();
                    }
                    attempt = null;
                }
            }
            invariant.accept(call);
            if (call.transportError != null) {
                throw new ConnectionClosed();
            }
        }
    }

    /** The connection closed with a transport error: the sequence ends there. */
    static final class ConnectionClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static void run(Setup setup, List<Step> steps, Consumer<Call> invariant) {
        Client client = new Client(setup, invariant);
        try {
            for (int i = 0; i < steps.size(); i++) {
                client.apply(i, steps.get(i));
            }
            // Let the timers run out: whatever runs ends.
            for (int i = 0; i < 20 && client.migrator.nextTimerNanos() != Long.MAX_VALUE; i++) {
                client.apply(steps.size() + i, new DueTimer());
            }
        } catch (ConnectionClosed closed) {
            return;
        }
        if (client.migrator.inProgress()) {
            fail("a migration still runs once its timers ran out: %s",
                    client.attempt == null ? "?" : client.attempt.to);
        }
    }

    static ConnectionId id(long sequence) {
        return ConnectionId.fromHex(String.format("5e%04x", sequence));
    }

    static StatelessResetToken token(long sequence) {
        byte[] bytes = new byte[StatelessResetToken.LENGTH];
        bytes[15] = (byte) sequence;
        bytes[14] = (byte) (sequence >> 8);
        return StatelessResetToken.of(bytes);
    }
}
