package org.quicmigration.core.cid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.constraints.IntRange;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;

/**
 * Invariants of the connection IDs we issue, checked after every input of random sequences of top-ups and
 * RETIRE_CONNECTION_ID frames (for active, already retired and never issued sequence numbers, in packets sent to
 * any of our IDs), under any active_connection_id_limit of the peer.
 */
class LocalConnectionIdsProperties {

    private static final ConnectionId INITIAL = ConnectionId.fromHex("c0c0c0c0c0c0c0c0");

    /**
     * RFC 9000 5.1.1: "An endpoint MUST NOT provide more connection IDs than the peer's limit", "The sequence number
     * on each newly issued connection ID MUST increase by 1", and "An endpoint SHOULD supply a new connection ID when
     * the peer retires a connection ID." Our own bound on state holds too.
     */
    @Property(tries = 250)
    void neverIssuesMoreThanThePeersLimitAndReplacesEveryRetiredId(@ForAll @IntRange(min = 2, max = 20) int limit,
                                                                   @ForAll("steps") List<Step> steps) {
        long[] next = {1};
        run(limit, steps, (ids, step, issued) -> {
            int allowed = Math.min(limit, LocalConnectionIds.MAX_ACTIVE);
            assertThat(ids.real.activeCount()).as("IDs the peer holds with its limit %d, after %s", limit, step)
                    .isEqualTo(allowed);
            for (LocalConnectionIds.Issued id : issued) {
                assertThat(id.sequence()).as("sequence of a new ID, after %s", step).isEqualTo(next[0]++);
            }
        });
    }

    /**
     * RFC 9000 5.1: "the same connection ID MUST NOT be issued more than once on the same connection"; each ID comes
     * with its own stateless reset token (10.3); an ID the peer retired is never active again.
     */
    @Property(tries = 250)
    void issuedIdsAndTokensAreNeverRepeatedAndRetiredOnesNeverComeBack(@ForAll @IntRange(min = 2, max = 20) int limit,
                                                                       @ForAll("steps") List<Step> steps) {
        Set<ConnectionId> everIssued = new HashSet<>(Set.of(INITIAL));
        Set<String> tokens = new HashSet<>();
        run(limit, steps, (ids, step, issued) -> {
            for (LocalConnectionIds.Issued id : issued) {
                assertThat(everIssued.add(id.id())).as("%s issued again, after %s", id.id(), step).isTrue();
                assertThat(id.id().length()).isEqualTo(8);
                assertThat(id.resetToken()).as("the token of %s", id.id()).isNotNull();
                assertThat(tokens.add(id.resetToken().toString())).as("token of %s issued again", id.id()).isTrue();
            }
            for (LocalConnectionIds.Issued id : ids.real.active()) {
                assertThat(ids.retired).as("retired sequences, after %s", step).doesNotContain(id.sequence());
                assertThat(ids.real.sequenceOf(id.id())).contains(id.sequence());
            }
        });
    }

    /**
     * RFC 9000 19.16: "Receipt of a RETIRE_CONNECTION_ID frame containing a sequence number greater than any
     * previously sent to the peer MUST be treated as a connection error of type PROTOCOL_VIOLATION", and "The
     * sequence number specified in a RETIRE_CONNECTION_ID frame MUST NOT refer to the Destination Connection ID field
     * of the packet in which the frame is contained. The peer MAY treat this as a connection error of type
     * PROTOCOL_VIOLATION." Any other RETIRE_CONNECTION_ID, a repeated one too, is accepted.
     */
    @Property(tries = 250)
    void retireFramesAreRefusedExactlyWhenTheyBreakTheRules(@ForAll @IntRange(min = 2, max = 20) int limit,
                                                            @ForAll("steps") List<Step> steps) {
        run(limit, steps, (ids, step, issued) -> {
            if (step instanceof Retire r) {
                boolean mustFail = r.kind == RetireKind.NEVER_ISSUED || r.kind == RetireKind.IN_ITS_OWN_PACKET;
                assertThat(ids.lastError).as("the error after %s", step)
                        .isEqualTo(mustFail ? Long.valueOf(TransportErrorException.PROTOCOL_VIOLATION) : null);
            }
        });
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    sealed interface Step {
    }

    /** Issue IDs until the peer holds its limit. */
    record TopUp() implements Step {
    }

    /** A RETIRE_CONNECTION_ID for one of the sequences of {@code kind}, picked by {@code which}. */
    record Retire(RetireKind kind, int which) implements Step {
    }

    enum RetireKind {
        /** An active ID, in a packet sent to another one. */
        ACTIVE,
        /** An ID retired before: a repeated frame. */
        ALREADY_RETIRED,
        /** A sequence number above any we issued. */
        NEVER_ISSUED,
        /** The ID the packet carrying the frame was sent to. */
        IN_ITS_OWN_PACKET
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> retire = Combinators.combine(
                Arbitraries.frequency(weight(6, RetireKind.ACTIVE),
                        weight(2, RetireKind.ALREADY_RETIRED),
                        weight(1, RetireKind.NEVER_ISSUED),
                        weight(1, RetireKind.IN_ITS_OWN_PACKET)),
                Arbitraries.integers().between(0, 100)).as(Retire::new);
        return Arbitraries.frequencyOf(weight(1, Arbitraries.just(new TopUp())),
                weight(4, retire)).list().ofMinSize(8).ofMaxSize(40).withSizeDistribution(RandomDistribution.uniform());
    }

    /** {@code value} with {@code weight}, for {@link Arbitraries#frequency} and {@link Arbitraries#frequencyOf}. */
    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> weight(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    // ---- the harness -----------------------------------------------------------------------------------------

    /** The IDs under test and what the peer has retired. */
    static final class Ids {
        final LocalConnectionIds real;
        final Set<Long> retired = new HashSet<>();
        long nextSequence = 1;
        Long lastError;

        Ids(int limit, long seed) {
            real = new LocalConnectionIds(INITIAL, 8, new SplittableRandom(seed));
            real.peerLimit(limit);
        }
    }

    interface Invariant {
        void check(Ids ids, Step step, List<LocalConnectionIds.Issued> issued);
    }

    private static void run(int limit, List<Step> steps, Invariant invariant) {
        Ids ids = new Ids(limit, steps.hashCode());
        // The handshake: the peer learns our limit and gets its spare IDs.
        List<LocalConnectionIds.Issued> first = ids.real.topUp();
        first.forEach(id -> ids.nextSequence = Math.max(ids.nextSequence, id.sequence() + 1));
        invariant.check(ids, new TopUp(), first);
        for (Step step : steps) {
            List<LocalConnectionIds.Issued> issued = List.of();
            ids.lastError = null;
            if (step instanceof TopUp) {
                issued = ids.real.topUp();
            } else if (step instanceof Retire r) {
                List<LocalConnectionIds.Issued> active = ids.real.active();
                long sequence;
                ConnectionId packetDestination;
                switch (r.kind) {
                    case ACTIVE -> {
                        sequence = active.get(r.which % active.size()).sequence();
                        packetDestination = other(active, sequence);
                    }
                    case ALREADY_RETIRED -> {
                        if (ids.retired.isEmpty()) {
                            continue;
                        }
                        sequence = new ArrayList<>(ids.retired).get(r.which % ids.retired.size());
                        packetDestination = active.get(0).id();
                    }
                    case NEVER_ISSUED -> {
                        sequence = ids.nextSequence + r.which % 3;
                        packetDestination = active.get(0).id();
                    }
                    default -> {
                        LocalConnectionIds.Issued own = active.get(r.which % active.size());
                        sequence = own.sequence();
                        packetDestination = own.id();
                    }
                }
                try {
                    issued = ids.real.onRetire(sequence, packetDestination);
                    if (r.kind == RetireKind.NEVER_ISSUED || r.kind == RetireKind.IN_ITS_OWN_PACKET) {
                        fail("%s (sequence %d, in a packet to %s) was accepted", r, sequence, packetDestination);
                    }
                    ids.retired.add(sequence);
                } catch (TransportErrorException e) {
                    ids.lastError = e.errorCode();
                    invariant.check(ids, step, issued);
                    return; // the connection closes
                }
            }
            for (LocalConnectionIds.Issued id : issued) {
                ids.nextSequence = Math.max(ids.nextSequence, id.sequence() + 1);
            }
            invariant.check(ids, step, issued);
        }
    }

    /** An active ID other than the one of {@code sequence}, or that one if it is the only one. */
    private static ConnectionId other(List<LocalConnectionIds.Issued> active, long sequence) {
        for (LocalConnectionIds.Issued id : active) {
            if (id.sequence() != sequence) {
                return id.id();
            }
        }
        return active.get(0).id();
    }
}
