package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.Tuple;

/** The server side of RFC 9000 section 9.3, in virtual time. */
class ServerPathManagerTest {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final Tuple WIFI = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5000));
    private static final Tuple REBOUND = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5999));
    private static final Tuple CELLULAR = new Tuple(SERVER, new InetSocketAddress("127.0.0.3", 6000));
    private static final Tuple ATTACKER = new Tuple(SERVER, new InetSocketAddress("127.0.0.66", 6666));
    private static final Duration PTO = Duration.ofMillis(50);

    private final ServerPathManager paths = new ServerPathManager(WIFI, 3, 8, Duration.ofMillis(25), new SplittableRandom(5));

    @Test
    void aNatRebindingIsFollowedAtOnceValidatedAndKeepsCongestionStateAndTheClientId() {
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 1200, true, true, true, PTO);

        assertThat(actions).first().isEqualTo(new ServerPathAction.SendOn(REBOUND, false));
        assertThat(actions).noneMatch(a -> a instanceof ServerPathAction.ResetRecovery);
        assertThat(actions).noneMatch(a -> a instanceof ServerPathAction.SendOn on && on.freshClientId());
        assertThat(challengedTuples(actions)).as("new path, and the old one (RFC 9000 9.3.3)")
                .containsExactly(REBOUND, WIFI);
        assertThat(paths.activeTuple()).isEqualTo(REBOUND);

        List<ServerPathAction> done = paths.onPathResponse(20 * MS, challengeFor(actions, REBOUND));

        assertThat(done).containsExactly(new ServerPathAction.PathValidated(REBOUND, 20 * MS),
                new ServerPathAction.Migrated(WIFI, REBOUND, 20 * MS, false));
        assertThat(paths.isValidated(REBOUND)).isTrue();
    }

    @Test
    void aPathValidatedWithASmallChallengeIsValidatedAgainAtFullSize() {
        // A NAT rebinding whose first datagram is a 50-byte ACK: three times that is 150 bytes, so the first
        // challenge leaves in a datagram below 1200 bytes (RFC 9000 8.2.1).
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 50, true, true, true, PTO);
        assertThat(paths.remainingBudget(REBOUND)).isLessThan(ServerPathManager.FULL_SIZE_CHALLENGE_BUDGET);

        List<ServerPathAction> done = paths.onPathResponse(20 * MS, challengeFor(actions, REBOUND));

        assertThat(done).startsWith(new ServerPathAction.PathValidated(REBOUND, 20 * MS),
                new ServerPathAction.Migrated(WIFI, REBOUND, 20 * MS, false));
        assertThat(challengedTuples(done)).as("a second validation of the path, now without a budget limit")
                .containsExactly(REBOUND);
        assertThat(paths.remainingBudget(REBOUND)).isEqualTo(Long.MAX_VALUE);
        byte[] second = challengeFor(done, REBOUND);
        assertThat(second).isNotEqualTo(challengeFor(actions, REBOUND));

        assertThat(paths.onPathResponse(40 * MS, second)).as("the confirmation changes nothing").isEmpty();
        assertThat(paths.activeTuple()).isEqualTo(REBOUND);
        assertThat(paths.isValidating(REBOUND)).isFalse();
    }

    @Test
    void aChallengeThatLeftSmallerThanItsBudgetAllowedIsFollowedByAFullSizeOne() {
        // The budget allowed 1200 bytes when the challenge was decided, but other datagrams to the path spent it
        // before the challenge left, in a small datagram (RFC 9000 8.2.1).
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 1200, true, true, true, PTO);
        byte[] first = challengeFor(actions, REBOUND);
        paths.challengeLeft(1 * MS, first, false);

        List<ServerPathAction> done = paths.onPathResponse(20 * MS, first);

        assertThat(challengedTuples(done)).as("a second validation, at full size").containsExactly(REBOUND);
        assertThat(paths.activeTuple()).isEqualTo(REBOUND);
    }

    @Test
    void aChallengeThatLeftAtFullSizeNeedsNoSecondValidation() {
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 1200, true, true, true, PTO);
        byte[] first = challengeFor(actions, REBOUND);
        paths.challengeLeft(1 * MS, first, true);

        assertThat(challengedTuples(paths.onPathResponse(20 * MS, first))).isEmpty();
    }

    @Test
    void aFailedFullSizeConfirmationIsReportedAndKeepsThePath() {
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 50, true, true, true, PTO);
        paths.onPathResponse(20 * MS, challengeFor(actions, REBOUND));
        paths.onPathResponse(20 * MS, challengeFor(actions, WIFI));

        List<ServerPathAction> failed = new ArrayList<>();
        for (long t = 20 * MS; t < 5_000 * MS && paths.isValidating(REBOUND); t += MS) {
            failed.addAll(paths.onTimer(t));
        }

        assertThat(failed).contains(new ServerPathAction.ValidationFailed(REBOUND));
        assertThat(failed).noneMatch(a -> a instanceof ServerPathAction.FellBack || a instanceof ServerPathAction.SendOn);
        assertThat(paths.activeTuple()).isEqualTo(REBOUND);
    }

    @Test
    void aPathValidatedWithAFullSizeChallengeIsNotValidatedTwice() {
        List<ServerPathAction> actions = paths.onDatagram(0, REBOUND, 1200, true, true, true, PTO);

        List<ServerPathAction> done = paths.onPathResponse(20 * MS, challengeFor(actions, REBOUND));

        assertThat(challengedTuples(done)).isEmpty();
    }

    @Test
    void anActiveMigrationResetsRecoveryAndRotatesTheClientId() {
        List<ServerPathAction> actions = paths.onDatagram(0, CELLULAR, 1200, true, true, false, PTO);

        assertThat(actions).contains(new ServerPathAction.ResetRecovery(CELLULAR),
                new ServerPathAction.SendOn(CELLULAR, true));
        // The reset resends the old path's data at once: after the fresh ID (a packet with the old one may only go
        // to the old path, RFC 9000 9.5) and after the challenges, which must lead on the new path.
        assertThat(actions).last().isEqualTo(new ServerPathAction.ResetRecovery(CELLULAR));
        assertThat(challengedTuples(actions)).containsExactly(CELLULAR, WIFI);
    }

    @Test
    void probingPacketsAndOldPacketsFromANewAddressDoNotMoveTheConnection() {
        assertThat(paths.onDatagram(0, CELLULAR, 1200, false, true, false, PTO)).as("probing only").isEmpty();
        assertThat(paths.onDatagram(0, CELLULAR, 1200, true, false, false, PTO)).as("not the highest PN").isEmpty();
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void anUnvalidatedAddressGetsAtMostThreeTimesWhatItSent() {
        paths.onDatagram(0, ATTACKER, 100, true, true, false, PTO);

        int sent = 0;
        while (paths.canSend(ATTACKER, 50)) {
            sent += 50;
        }

        assertThat(sent).isEqualTo(300);
        assertThat(paths.canSend(WIFI, 100_000)).as("the validated path is not limited").isTrue();
    }

    @Test
    void aSpoofedAddressThatNeverAnswersIsAbandonedForTheLastValidatedPath() {
        List<ServerPathAction> start = paths.onDatagram(0, ATTACKER, 1200, true, true, false, PTO);
        assertThat(paths.activeTuple()).isEqualTo(ATTACKER);
        // The real client answers the challenge sent on the old path: that path stays validated.
        paths.onPathResponse(10 * MS, challengeFor(start, WIFI));

        List<ServerPathAction> last = List.of();
        long now = 0;
        while (paths.nextTimerNanos() != Long.MAX_VALUE) {
            now = paths.nextTimerNanos();
            last = paths.onTimer(now);
            if (last.stream().anyMatch(a -> a instanceof ServerPathAction.FellBack)) {
                break;
            }
        }

        assertThat(last).contains(new ServerPathAction.SendOn(WIFI, false), new ServerPathAction.FellBack(ATTACKER, WIFI));
        assertThat(now).as("3 x the initial PTO of 1024 ms").isEqualTo(3 * 1024 * MS);
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void aFailedValidationOfTheLastValidatedPathInUseIsNoFallBack() {
        paths.onDatagram(0, CELLULAR, 1200, true, true, false, PTO);
        List<ServerPathAction> rebound = paths.onDatagram(0, REBOUND, 1200, true, true, true, PTO);
        paths.onPathResponse(10 * MS, challengeFor(rebound, REBOUND));
        paths.onTimer(3_072 * MS);
        // The client appears at the cellular address again; neither it nor the path left answers.
        paths.onDatagram(4_000 * MS, CELLULAR, 1200, true, true, false, PTO);

        List<ServerPathAction> failed = paths.onTimer(7_072 * MS);

        assertThat(failed).as("the cellular path fails, and with it the re-validation of the path left (RFC 9000 9.3.3)")
                .contains(new ServerPathAction.ValidationFailed(CELLULAR), new ServerPathAction.ValidationFailed(REBOUND));
        assertThat(failed).filteredOn(a -> a instanceof ServerPathAction.FellBack)
                .as("RFC 9000 9.3.2: back to the last validated path, once")
                .containsExactly(new ServerPathAction.FellBack(CELLULAR, REBOUND));
        assertThat(paths.activeTuple()).isEqualTo(REBOUND);
    }

    @Test
    void aLaterPacketFromTheRealAddressEndsASpuriousMigration() {
        paths.onDatagram(0, ATTACKER, 1200, true, true, false, PTO);

        List<ServerPathAction> back = paths.onDatagram(5 * MS, WIFI, 1200, true, true, true, PTO);

        assertThat(back).first().isEqualTo(new ServerPathAction.SendOn(WIFI, false));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
        assertThat(challengedTuples(back)).as("the validated path needs no new validation").doesNotContain(WIFI);
    }

    @Test
    void aResponseWithWrongDataValidatesNothing() {
        List<ServerPathAction> actions = paths.onDatagram(0, CELLULAR, 1200, true, true, false, PTO);
        byte[] wrong = challengeFor(actions, CELLULAR).clone();
        wrong[0] ^= 1;

        assertThat(paths.onPathResponse(10 * MS, wrong)).isEmpty();
        assertThat(paths.isValidated(CELLULAR)).isFalse();
    }

    @Test
    void aThousandAddressesInASecondKeepTheStateBounded() {
        for (int i = 0; i < 1000; i++) {
            Tuple hop = new Tuple(SERVER, new InetSocketAddress("127.0.0.9", 10_000 + i));
            paths.onDatagram(i * MS, hop, 1200, true, true, false, PTO);
            assertThat(paths.trackedPaths()).isLessThanOrEqualTo(8);
        }
        assertThat(paths.activeTuple().remote().getPort()).isEqualTo(10_999);
        assertThat(paths.isValidated(WIFI)).as("the last validated path is never forgotten").isTrue();
    }

    @Test
    void withThreePathsTrackedANewAddressDuringAValidationKeepsTheBound() {
        // With two, the path in use (not validated yet) and the last validated one could not make room for a third.
        assertThatThrownBy(() -> new ServerPathManager(WIFI, 3, 2, Duration.ofMillis(25), new SplittableRandom(5)))
                .isInstanceOf(IllegalArgumentException.class);
        ServerPathManager threePaths = new ServerPathManager(WIFI, 3, 3, Duration.ofMillis(25), new SplittableRandom(5));
        threePaths.onDatagram(0, REBOUND, 20, true, true, true, PTO);
        assertThat(threePaths.activeTuple()).isEqualTo(REBOUND);

        threePaths.onDatagram(1 * MS, CELLULAR, 20, true, true, true, PTO);
        threePaths.onDatagram(2 * MS, ATTACKER, 20, true, true, true, PTO);

        assertThat(threePaths.trackedPaths()).isLessThanOrEqualTo(3);
        assertThat(threePaths.isValidated(WIFI)).as("the last validated path is never forgotten").isTrue();
    }

    private static final Tuple AT_PREFERRED = new Tuple(new InetSocketAddress("127.0.0.4", 4434),
            new InetSocketAddress("127.0.0.2", 5000));

    @Test
    void aClientAtThePreferredAddressIsFollowedOnlyOnceThatPathIsValidated() {
        // A probe first (the client validating our preferred address): answered elsewhere, no move.
        assertThat(paths.onDatagram(0, AT_PREFERRED, 1200, false, true, false, PTO)).isEmpty();

        List<ServerPathAction> arrived = paths.onDatagram(5 * MS, AT_PREFERRED, 60, true, true, false, PTO);

        assertThat(arrived).as("RFC 9000 9.6.2: validate, but keep sending from the original address")
                .hasSize(1).allMatch(a -> a instanceof ServerPathAction.SendPathChallenge c && c.tuple().equals(AT_PREFERRED));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
        assertThat(paths.onDatagram(6 * MS, AT_PREFERRED, 60, true, true, false, PTO))
                .as("no second challenge while one is outstanding").isEmpty();

        List<ServerPathAction> validated = paths.onPathResponse(15 * MS, challengeFor(arrived, AT_PREFERRED));

        assertThat(validated).containsExactly(
                new ServerPathAction.PathValidated(AT_PREFERRED, 10 * MS),
                new ServerPathAction.SendOn(AT_PREFERRED, true),
                new ServerPathAction.ResetRecovery(AT_PREFERRED),
                new ServerPathAction.Migrated(WIFI, AT_PREFERRED, 10 * MS, true));
        assertThat(paths.activeTuple()).isEqualTo(AT_PREFERRED);
        assertThat(paths.canSend(AT_PREFERRED, 100_000)).isTrue();
    }

    @Test
    void aMoveWaitingAtThePreferredAddressIsDroppedWhenTheClientGoesOnFromElsewhere() {
        List<ServerPathAction> arrived = paths.onDatagram(0, AT_PREFERRED, 1200, true, true, false, PTO);
        // RFC 9000 9.3: "An endpoint only changes the address to which it sends packets in response to the
        // highest-numbered non-probing packet." The next ones come from the client's first address.
        paths.onDatagram(5 * MS, WIFI, 1200, true, true, false, PTO);

        List<ServerPathAction> validated = paths.onPathResponse(10 * MS, challengeFor(arrived, AT_PREFERRED));

        assertThat(validated).containsExactly(new ServerPathAction.PathValidated(AT_PREFERRED, 10 * MS));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void aMoveWaitingAtThePreferredAddressEndsWhenItsValidationFails() {
        paths.onDatagram(0, AT_PREFERRED, 1200, true, true, false, PTO);
        long now = 0;
        while (paths.isValidating(AT_PREFERRED)) {
            now = paths.nextTimerNanos();
            paths.onTimer(now);
        }
        // Later the client only probes that path, and the probe's validation succeeds.
        now += 10_000 * MS;
        paths.onDatagram(now, AT_PREFERRED, 1200, false, true, false, PTO);
        List<ServerPathAction> probed = paths.onPathChallenge(now, AT_PREFERRED, PTO);

        List<ServerPathAction> validated = paths.onPathResponse(now + 10 * MS, challengeFor(probed, AT_PREFERRED));

        assertThat(validated).as("RFC 9000 9.3: no move without a non-probing packet")
                .containsExactly(new ServerPathAction.PathValidated(AT_PREFERRED, 10 * MS));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void aPreferredAddressPathThatNeverAnswersIsNeverUsed() {
        List<ServerPathAction> arrived = paths.onDatagram(0, AT_PREFERRED, 60, true, true, false, PTO);
        assertThat(challengedTuples(arrived)).containsExactly(AT_PREFERRED);

        List<ServerPathAction> last = List.of();
        for (int i = 0; i < 100 && paths.nextTimerNanos() != Long.MAX_VALUE; i++) {
            last = paths.onTimer(paths.nextTimerNanos());
        }

        assertThat(paths.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(last).containsExactly(new ServerPathAction.ValidationFailed(AT_PREFERRED));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void aMoveToAPathThatWaitedForItsValidationAtThePreferredAddressStillValidatesThePathLeft() {
        // Two client addresses reach our preferred address; each waits for its validation there (RFC 9000 9.6.2).
        Tuple other = new Tuple(AT_PREFERRED.local(), new InetSocketAddress("127.0.0.3", 6000));
        List<ServerPathAction> first = paths.onDatagram(0, other, 1200, true, true, false, PTO);
        List<ServerPathAction> second = paths.onDatagram(1 * MS, AT_PREFERRED, 1200, true, true, false, PTO);
        paths.onPathResponse(10 * MS, challengeFor(second, AT_PREFERRED));
        assertThat(paths.activeTuple()).isEqualTo(AT_PREFERRED);
        assertThat(challengedTuples(first)).containsExactly(other);

        // The other address sends a non-probing packet again, now to the local address in use: a move.
        List<ServerPathAction> moved = paths.onDatagram(20 * MS, other, 1200, true, true, false, PTO);

        assertThat(moved).contains(new ServerPathAction.SendOn(other, true));
        assertThat(paths.isValidating(AT_PREFERRED)).as("RFC 9000 9.3.3: the previously active path is validated")
                .isTrue();
        assertThat(challengedTuples(moved)).containsExactly(AT_PREFERRED);
    }

    @Test
    void aProbedPathIsValidatedAtOnceSoTheMoveThereIsFollowedWithoutALimit() {
        assertThat(paths.onDatagram(0, CELLULAR, 1200, false, true, false, PTO)).as("the probe moves nothing").isEmpty();
        List<ServerPathAction> probed = paths.onPathChallenge(0, CELLULAR, PTO);
        assertThat(challengedTuples(probed)).containsExactly(CELLULAR);
        assertThat(paths.onPathChallenge(1 * MS, CELLULAR, PTO)).as("one validation per path").isEmpty();
        assertThat(paths.activeTuple()).isEqualTo(WIFI);

        assertThat(paths.onPathResponse(50 * MS, challengeFor(probed, CELLULAR)))
                .containsExactly(new ServerPathAction.PathValidated(CELLULAR, 50 * MS));
        List<ServerPathAction> moved = paths.onDatagram(60 * MS, CELLULAR, 60, true, true, false, PTO);

        assertThat(moved).contains(new ServerPathAction.SendOn(CELLULAR, true), new ServerPathAction.ResetRecovery(CELLULAR),
                new ServerPathAction.Migrated(WIFI, CELLULAR, 50 * MS, true));
        assertThat(challengedTuples(moved)).as("only the old path is challenged (RFC 9000 9.3.3)").containsExactly(WIFI);
        assertThat(paths.canSend(CELLULAR, 1_000_000)).as("validated: no three-times limit").isTrue();
    }

    @Test
    void aMoveDuringTheProbesValidationKeepsItsChallengeInsteadOfSendingASecond() {
        // A switching-first client sends its challenge and its first non-probing packet back to back.
        paths.onDatagram(0, CELLULAR, 1200, false, true, false, PTO);
        List<ServerPathAction> probed = paths.onPathChallenge(0, CELLULAR, PTO);
        assertThat(paths.challengeLeftOn(CELLULAR)).as("decided, not sent").isFalse();
        paths.challengeLeft(0, challengeFor(probed, CELLULAR));
        assertThat(paths.challengeLeftOn(CELLULAR)).as("the binding need not wait for another challenge").isTrue();
        List<ServerPathAction> moved = paths.onDatagram(1 * MS, CELLULAR, 1200, true, true, false, PTO);

        assertThat(moved).contains(new ServerPathAction.SendOn(CELLULAR, true));
        assertThat(challengedTuples(moved)).as("validation is underway already (RFC 9000 9.3); only the old path is "
                + "challenged (9.3.3)").containsExactly(WIFI);
        assertThat(paths.onPathResponse(50 * MS, challengeFor(probed, CELLULAR)))
                .as("the first challenge's answer validates the path the connection moved to")
                .containsExactly(new ServerPathAction.PathValidated(CELLULAR, 50 * MS),
                        new ServerPathAction.Migrated(WIFI, CELLULAR, 50 * MS, false));
    }

    @Test
    void probesValidateAtMostTwoPathsAtATimeAndNeverTheActiveOne() {
        Tuple third = new Tuple(SERVER, new InetSocketAddress("127.0.0.4", 7000));
        for (Tuple tuple : List.of(CELLULAR, ATTACKER, third, WIFI)) {
            paths.onDatagram(0, tuple, 1200, false, true, false, PTO);
        }
        assertThat(paths.onPathChallenge(0, WIFI, PTO)).as("the active path is validated already").isEmpty();
        assertThat(paths.onPathChallenge(0, CELLULAR, PTO)).hasSize(1);
        assertThat(paths.onPathChallenge(0, ATTACKER, PTO)).hasSize(1);
        assertThat(paths.onPathChallenge(0, third, PTO)).as("a third at once").isEmpty();
        assertThat(paths.onPathChallenge(0, new Tuple(SERVER, new InetSocketAddress("127.0.0.9", 9)), PTO))
                .as("an untracked path").isEmpty();
    }

    private static List<Tuple> challengedTuples(List<ServerPathAction> actions) {
        List<Tuple> tuples = new ArrayList<>();
        for (ServerPathAction action : actions) {
            if (action instanceof ServerPathAction.SendPathChallenge challenge) {
                tuples.add(challenge.tuple());
            }
        }
        return tuples;
    }

    private static byte[] challengeFor(List<ServerPathAction> actions, Tuple tuple) {
        return actions.stream().filter(a -> a instanceof ServerPathAction.SendPathChallenge c && c.tuple().equals(tuple))
                .map(a -> ((ServerPathAction.SendPathChallenge) a).data()).findFirst().orElseThrow();
    }
}
