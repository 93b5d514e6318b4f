package org.quicmigration.core.cid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.constraints.IntRange;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;

/**
 * Invariants of the peer's connection IDs, checked after every input of random sequences: NEW_CONNECTION_ID frames
 * with sequence numbers around the newest one (new, repeated, reordered), retire_prior_to that stays, grows, or
 * breaks the rules, connection IDs that repeat under another sequence number, exact repeats of earlier frames, and
 * paths that take an ID or are left for good. A small reference model of RFC 9000 5.1 and 19.15 says what each
 * frame must do; the invariants hold whatever it says.
 */
class PeerConnectionIdsProperties {

    private static final int PATHS = 5;

    /**
     * RFC 9000 9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one local address", and
     * every ID a path uses is one of the active ones.
     */
    @Property(tries = 250)
    void noConnectionIdIsUsedOnTwoPathsAtOnce(@ForAll @IntRange(min = 2, max = 6) int limit,
                                             @ForAll("steps") List<Step> steps) {
        run(limit, steps, ids -> {
            Map<Long, Integer> pathOfSequence = new HashMap<>();
            Set<Long> active = ids.activeSequences();
            for (int path = 0; path < PATHS; path++) {
                Optional<PeerConnectionIds.Entry> current = ids.real.current(tuple(path));
                if (current.isPresent()) {
                    long sequence = current.get().sequence();
                    Integer other = pathOfSequence.put(sequence, path);
                    assertThat(other).as("sequence %d on paths %s and %d, after %s", sequence, other, path, ids.last)
                            .isNull();
                    assertThat(active).as("active sequences, one of which path %d uses (%s)", path, ids.last)
                            .contains(sequence);
                }
            }
            assertThat(ids.real.spareCount()).as("spare IDs after %s", ids.last)
                    .isEqualTo(active.size() - pathOfSequence.size());
        });
    }

    /**
     * RFC 9000 5.1.2: "Sending a RETIRE_CONNECTION_ID frame indicates that the connection ID will not be used again"
     * and "An endpoint MUST NOT forget a connection ID without retiring it". So every ID that leaves the active set
     * is retired, once; it was in use on no path but the one that left it, or it is reported as lost by the paths
     * that used it; and it never comes back.
     */
    @Property(tries = 250)
    void anIdIsRetiredOnceOnlyWhenNoPathUsesItAndNeverUsedAgain(@ForAll @IntRange(min = 2, max = 6) int limit,
                                                                @ForAll("steps") List<Step> steps) {
        run(limit, steps, ids -> {
            Set<Long> active = ids.activeSequences();
            for (long sequence : ids.retiredNow) {
                assertThat(ids.everRetired.add(sequence)).as("sequence %d retired again by %s", sequence, ids.last)
                        .isTrue();
            }
            for (long sequence : ids.activeBefore) {
                if (!active.contains(sequence)) {
                    assertThat(ids.everRetired).as("sequences retired, one of which %s removed", ids.last)
                            .contains(sequence);
                }
            }
            for (long retired : ids.everRetired) {
                assertThat(active).as("active sequences after %s", ids.last).doesNotContain(retired);
            }
            for (int path = 0; path < PATHS; path++) {
                Optional<PeerConnectionIds.Entry> current = ids.real.current(tuple(path));
                if (current.isPresent()) {
                    assertThat(ids.everRetired).as("retired sequences, path %d uses %d (%s)", path,
                            current.get().sequence(), ids.last).doesNotContain(current.get().sequence());
                }
            }
            for (Map.Entry<Integer, Long> before : ids.pathsBefore.entrySet()) {
                if (ids.retiredNow.contains(before.getValue()) && before.getKey() != ids.releasedPath) {
                    assertThat(ids.orphanedNow)
                            .as("paths that lost retired sequence %d (%s)", before.getValue(), ids.last)
                            .contains(tuple(before.getKey()));
                }
            }
        });
    }

    /**
     * RFC 9000 5.1.1: "After processing a NEW_CONNECTION_ID frame and adding and retiring active connection IDs, if
     * the number of active connection IDs exceeds the value advertised in its active_connection_id_limit transport
     * parameter, an endpoint MUST close the connection with an error of type CONNECTION_ID_LIMIT_ERROR."
     * RFC 9000 19.15: "Receiving a value in the Retire Prior To field that is greater than that in the Sequence Number
     * field MUST be treated as a connection error of type FRAME_ENCODING_ERROR" and "Receipt of the same frame
     * multiple times MUST NOT be treated as a connection error."
     */
    @Property(tries = 250)
    void framesAreAcceptedOrRejectedAsTheRulesSayAndTheLimitHolds(@ForAll @IntRange(min = 2, max = 6) int limit,
                                                                  @ForAll("steps") List<Step> steps) {
        run(limit, steps, ids -> {
            assertThat(ids.real.activeCount()).as("active IDs with a limit of %d, after %s", limit, ids.last)
                    .isLessThanOrEqualTo(limit);
            assertThat(ids.activeSequences()).as("active sequences after %s", ids.last)
                    .isEqualTo(ids.model.active.keySet());
        });
    }

    /**
     * RFC 9000 10.3.1: "An endpoint MUST NOT check for any stateless reset tokens associated with connection IDs it
     * has not used or for connection IDs that have been retired."
     */
    @Property(tries = 250)
    void onlyTheResetTokensOfIdsInUseEndTheConnection(@ForAll @IntRange(min = 2, max = 6) int limit,
                                                     @ForAll("steps") List<Step> steps) {
        run(limit, steps, ids -> {
            Set<Long> used = new HashSet<>();
            for (int path = 0; path < PATHS; path++) {
                ids.real.current(tuple(path)).ifPresent(entry -> used.add(entry.sequence()));
            }
            for (long sequence : ids.everIssued) {
                byte[] datagram = new byte[40];
                System.arraycopy(token(sequence).bytes(), 0, datagram, 24, StatelessResetToken.LENGTH);
                assertThat(ids.real.isStatelessReset(datagram, datagram.length))
                        .as("a datagram ending in the token of sequence %d (%s) after %s", sequence,
                                used.contains(sequence) ? "in use" : "not in use", ids.last)
                        .isEqualTo(used.contains(sequence));
            }
        });
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    /** One input of a sequence. */
    sealed interface Step {
    }

    /**
     * NEW_CONNECTION_ID with sequence {@code highest + offset} (offset -3 to 2: repeats, late frames, gaps), the ID
     * issued for that sequence or, if {@code otherId}, the one of sequence {@code otherSequence}; retire_prior_to
     * as {@code retire} says.
     */
    record NewId(int offset, boolean otherId, int otherSequence, RetirePriorTo retire, int by) implements Step {
    }

    enum RetirePriorTo { KEEP, RAISE, ABOVE_SEQUENCE }

    /** An earlier NEW_CONNECTION_ID frame, received again. */
    record Repeat(int which) implements Step {
    }

    /** Path {@code path} takes an ID, or keeps the one it has. */
    record Assign(int path) implements Step {
    }

    /** Path {@code path} is left for good. */
    record Release(int path) implements Step {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> newId = Combinators.combine(Arbitraries.integers().between(-3, 2),
                Arbitraries.frequency(weight(6, false), weight(1, true)),
                Arbitraries.integers().between(0, 12),
                Arbitraries.frequency(weight(6, RetirePriorTo.KEEP), weight(3, RetirePriorTo.RAISE),
                        weight(1, RetirePriorTo.ABOVE_SEQUENCE)),
                Arbitraries.integers().between(1, 3)).as(NewId::new);
        Arbitrary<Step> repeat = Arbitraries.integers().between(0, 100).map(Repeat::new);
        Arbitrary<Step> assign = Arbitraries.integers().between(0, PATHS - 1).map(Assign::new);
        Arbitrary<Step> release = Arbitraries.integers().between(0, PATHS - 1).map(Release::new);
        return Arbitraries.frequencyOf(weight(6, newId), weight(1, repeat),
                        weight(4, assign), weight(2, release))
                .list().ofMinSize(8).ofMaxSize(50).withSizeDistribution(RandomDistribution.uniform());
    }

    /** {@code value} with {@code weight}, for {@link Arbitraries#frequency} and {@link Arbitraries#frequencyOf}. */
    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> weight(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    // ---- the harness -----------------------------------------------------------------------------------------

    /** A received NEW_CONNECTION_ID frame. */
    record Frame(long sequence, ConnectionId id, long retirePriorTo) {
    }

    /**
     * What RFC 9000 5.1.1, 5.1.2 and 19.15 make of the frames: the active IDs, the retired ones and the largest
     * retire_prior_to.
     */
    static final class Model {
        final int limit;
        final TreeMap<Long, ConnectionId> active = new TreeMap<>();
        final Set<Long> retired = new HashSet<>();
        long largestRetirePriorTo;

        Model(int limit) {
            this.limit = limit;
            active.put(0L, id(0));
        }

        /** The error code the frame must (or, for a repeated ID, may) close the connection with, or null. */
        Long errorOf(Frame frame) {
            if (frame.retirePriorTo > frame.sequence) {
                return TransportErrorException.FRAME_ENCODING_ERROR;
            }
            ConnectionId known = active.get(frame.sequence);
            if (known != null && !known.equals(frame.id)) {
                return TransportErrorException.PROTOCOL_VIOLATION;
            }
            for (Map.Entry<Long, ConnectionId> entry : active.entrySet()) {
                if (entry.getValue().equals(frame.id) && entry.getKey() != frame.sequence) {
                    return TransportErrorException.PROTOCOL_VIOLATION;
                }
            }
            TreeMap<Long, ConnectionId> after = new TreeMap<>(active);
            long largest = Math.max(largestRetirePriorTo, frame.retirePriorTo);
            after.headMap(largest).clear();
            if (!after.containsKey(frame.sequence) && !retired.contains(frame.sequence) && frame.sequence >= largest) {
                after.put(frame.sequence, frame.id);
            }
            return after.size() > limit ? TransportErrorException.CONNECTION_ID_LIMIT_ERROR : null;
        }

        /** Applies a frame {@link #errorOf} accepts; returns the sequences it retires. */
        Set<Long> apply(Frame frame) {
            Set<Long> retiring = new HashSet<>();
            if (frame.retirePriorTo > largestRetirePriorTo) {
                largestRetirePriorTo = frame.retirePriorTo;
                retiring.addAll(active.headMap(largestRetirePriorTo).keySet());
                active.headMap(largestRetirePriorTo).clear();
            }
            if (!active.containsKey(frame.sequence) && !retired.contains(frame.sequence)) {
                if (frame.sequence < largestRetirePriorTo) {
                    retiring.add(frame.sequence);
                } else {
                    active.put(frame.sequence, frame.id);
                }
            }
            retired.addAll(retiring);
            return retiring;
        }
    }

    /** The object under test, the model, and what the last step did. */
    static final class Ids {
        final PeerConnectionIds real;
        final Model model;
        final List<Frame> received = new ArrayList<>();
        final Set<Long> everIssued = new HashSet<>(Set.of(0L));
        final Set<Long> everRetired = new HashSet<>();
        long highest;
        // What the last step did.
        Object last;
        Set<Long> activeBefore = Set.of();
        Map<Integer, Long> pathsBefore = Map.of();
        Set<Long> retiredNow = Set.of();
        List<Tuple> orphanedNow = List.of();
        int releasedPath = -1;
        boolean closed;
        /** The peer sent an ID again under another sequence number, which RFC 9000 19.15 lets us refuse. */
        boolean peerRepeatedAnId;

        Ids(int limit) {
            real = new PeerConnectionIds(limit, id(0), token(0));
            model = new Model(limit);
            real.bind(tuple(0), 0);
        }

        Set<Long> activeSequences() {
            Set<Long> sequences = new HashSet<>();
            real.active().forEach(entry -> sequences.add(entry.sequence()));
            return sequences;
        }

        void apply(int index, Step step) {
            activeBefore = activeSequences();
            pathsBefore = new HashMap<>();
            for (int path = 0; path < PATHS; path++) {
                int p = path;
                real.current(tuple(path)).ifPresent(entry -> pathsBefore.put(p, entry.sequence()));
            }
            retiredNow = Set.of();
            orphanedNow = List.of();
            releasedPath = -1;
            if (step instanceof NewId n) {
                long sequence = Math.max(0, highest + n.offset);
                long retirePriorTo = switch (n.retire) {
                    case KEEP -> Math.min(model.largestRetirePriorTo, sequence);
                    case RAISE -> Math.min(model.largestRetirePriorTo + n.by, sequence);
                    case ABOVE_SEQUENCE -> sequence + n.by;
                };
                ConnectionId id = n.otherId ? id(n.otherSequence) : id(sequence);
                receive(index, step, new Frame(sequence, id, retirePriorTo));
            } else if (step instanceof Repeat r) {
                if (!received.isEmpty()) {
                    receive(index, step, received.get(r.which % received.size()));
                }
            } else if (step instanceof Assign a) {
                last = describe(index, step, "");
                real.assign(tuple(a.path));
            } else if (step instanceof Release r) {
                last = describe(index, step, "");
                releasedPath = r.path;
                retiredNow = real.release(tuple(r.path)).map(Set::of).orElse(Set.of());
                model.active.keySet().removeAll(retiredNow);
                model.retired.addAll(retiredNow);
            }
        }

        private void receive(int index, Step step, Frame frame) {
            last = describe(index, step, " = " + frame);
            Long expectedError = model.errorOf(frame);
            if (step instanceof Repeat && !peerRepeatedAnId) {
                assertThat(expectedError).as("the model's error for %s", last).isNull();
            }
            PeerConnectionIds.Update update;
            try {
                update = real.onNewConnectionId(frame.sequence, frame.id, token(frame.sequence), frame.retirePriorTo);
            } catch (TransportErrorException e) {
                assertThat(e.errorCode()).as("error code of %s (%s)", last, e.getMessage()).isEqualTo(expectedError);
                closed = true;
                return;
            }
            if (expectedError != null) {
                fail("%s was accepted; it must close the connection with error 0x%x", last, expectedError);
            }
            received.add(frame);
            peerRepeatedAnId |= !frame.id.equals(id(frame.sequence));
            everIssued.add(frame.sequence);
            highest = Math.max(highest, frame.sequence);
            Set<Long> expected = model.apply(frame);
            retiredNow = new HashSet<>(update.retire());
            assertThat(update.retire()).as("sequences to retire after %s", last).doesNotHaveDuplicates();
            assertThat(retiredNow).as("sequences to retire after %s", last).isEqualTo(expected);
            orphanedNow = update.pathsThatLostTheirId();
        }
    }

    private static Object describe(int index, Step step, String detail) {
        return new Object() {
            @Override
            public String toString() {
                return "step " + index + ", " + step + detail;
            }
        };
    }

    private static void run(int limit, List<Step> steps, Consumer<Ids> invariant) {
        Ids ids = new Ids(limit);
        for (int i = 0; i < steps.size() && !ids.closed; i++) {
            ids.apply(i, steps.get(i));
            if (!ids.closed) {
                invariant.accept(ids);
            }
        }
    }

    static ConnectionId id(long sequence) {
        return ConnectionId.fromHex(String.format("5e%04x", sequence));
    }

    static StatelessResetToken token(long sequence) {
        byte[] bytes = new byte[StatelessResetToken.LENGTH];
        bytes[0] = (byte) 0x7e;
        bytes[15] = (byte) sequence;
        bytes[14] = (byte) (sequence >> 8);
        return StatelessResetToken.of(bytes);
    }

    private static final Tuple[] TUPLES = new Tuple[PATHS];

    static {
        for (int path = 0; path < PATHS; path++) {
            TUPLES[path] = new Tuple(new InetSocketAddress("127.0.0." + (2 + path), 5000 + path),
                    new InetSocketAddress("127.0.0.1", 4433));
        }
    }

    static Tuple tuple(int path) {
        return TUPLES[path];
    }
}
