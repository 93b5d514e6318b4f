package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.migration.MigrationAction.ClosePath;
import org.quicmigration.core.migration.MigrationAction.Finished;
import org.quicmigration.core.migration.MigrationAction.ResetRecovery;
import org.quicmigration.core.migration.MigrationAction.RetirePeerId;
import org.quicmigration.core.migration.MigrationAction.SendPathChallenge;
import org.quicmigration.core.migration.MigrationAction.StateChanged;
import org.quicmigration.core.migration.MigrationAction.UsePath;

/** The client migration rules of RFC 9000 section 9, in virtual time. */
class ClientMigratorTest {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final Tuple WIFI = new Tuple(new InetSocketAddress("127.0.0.2", 5000), SERVER);
    private static final Tuple CELLULAR = new Tuple(new InetSocketAddress("127.0.0.3", 6000), SERVER);
    private static final Tuple WIFI_NEW_PORT = new Tuple(new InetSocketAddress("127.0.0.2", 5001), SERVER);
    private static final Duration PTO = Duration.ofMillis(50);
    private static final Duration MAX_ACK_DELAY = Duration.ofMillis(25);
    /** 3 x max(50 ms, initial PTO of 1024 ms). */
    private static final long TIMEOUT_MS = 3 * 1024;

    private final SplittableRandom random = new SplittableRandom(99);
    private final PeerConnectionIds peerIds = new PeerConnectionIds(4, ConnectionId.fromHex("5e0000"), null);
    private long nextPeerSequence = 1;
    private ClientMigrator migrator;

    private ClientMigrator migrator() throws Exception {
        peerIds.bind(WIFI, 0);
        giveSpareId();
        return new ClientMigrator(peerIds, WIFI, MAX_ACK_DELAY, random);
    }

    private void giveSpareId() throws Exception {
        long sequence = nextPeerSequence++;
        peerIds.onNewConnectionId(sequence, ConnectionId.fromHex(String.format("5e%04x", sequence)),
                StatelessResetToken.random(random), 0);
    }

    @Test
    void refusesBeforeTheHandshakeIsConfirmed() throws Exception {
        migrator = migrator();

        assertThatThrownBy(() -> migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, false, false, PTO))
                .isInstanceOf(MigrationRefusedException.class)
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.HANDSHAKE_NOT_CONFIRMED);
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void refusesWhenThePeerDisabledActiveMigration() throws Exception {
        migrator = migrator();

        assertThatThrownBy(() -> migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, true, PTO))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.PEER_DISABLED_MIGRATION);
        assertThat(peerIds.spareCount()).as("no ID was consumed").isEqualTo(1);
    }

    @Test
    void refusesWithoutASpareConnectionId() throws Exception {
        peerIds.bind(WIFI, 0);
        migrator = new ClientMigrator(peerIds, WIFI, MAX_ACK_DELAY, random);

        assertThatThrownBy(() -> migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.NO_SPARE_CONNECTION_ID);
    }

    @Test
    void refusesASecondMigrationWhileOneIsRunning() throws Exception {
        migrator = migrator();
        giveSpareId();
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        assertThatThrownBy(() -> migrator.migrate(MS, WIFI_NEW_PORT, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.MIGRATION_IN_PROGRESS);
    }

    @Test
    void switchThenValidateMovesAtOnceWithAFreshIdResetsRecoveryAndChallenges() throws Exception {
        migrator = migrator();

        List<MigrationAction> actions = migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        assertThat(actions).hasSize(5);
        assertThat(actions.get(0)).isEqualTo(new StateChanged(null, MigrationState.MIGRATION_STARTED, CELLULAR, 0));
        UsePath use = (UsePath) actions.get(1);
        assertThat(use.tuple()).isEqualTo(CELLULAR);
        assertThat(use.beforeValidation()).isTrue();
        assertThat(use.peerId().id()).as("a new path never uses the old path's ID (RFC 9000 9.5)")
                .isNotEqualTo(ConnectionId.fromHex("5e0000"));
        assertThat(actions.get(2)).isEqualTo(new ResetRecovery(CELLULAR));
        SendPathChallenge challenge = (SendPathChallenge) actions.get(3);
        assertThat(challenge.tuple()).isEqualTo(CELLULAR);
        assertThat(challenge.peerId()).isEqualTo(use.peerId().id());
        assertThat(challenge.data()).hasSize(8);
        // RFC 9000 9.3: the challenge's packet is probing; the server follows a non-probing one.
        assertThat(actions.get(4)).isEqualTo(new MigrationAction.AnnounceMove(CELLULAR));
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
    }

    @Test
    void aMatchingResponseCompletesTheMigrationAndRetiresTheOldId() throws Exception {
        migrator = migrator();
        byte[] data = challengeData(migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO));

        List<MigrationAction> actions = migrator.onPathResponse(20 * MS, data);

        assertThat(actions).containsSubsequence(
                new StateChanged(MigrationState.MIGRATION_STARTED, MigrationState.MIGRATION_COMPLETE, CELLULAR, 20 * MS),
                new RetirePeerId(0),
                new ClosePath(WIFI));
        MigrationOutcome outcome = ((Finished) actions.get(actions.size() - 1)).outcome();
        assertThat(outcome.validated()).isTrue();
        assertThat(outcome.fellBack()).isFalse();
        assertThat(outcome.validationRttNanos()).isEqualTo(20 * MS);
        assertThat(outcome.oldPeerId()).isEqualTo(ConnectionId.fromHex("5e0000"));
        assertThat(migrator.inProgress()).isFalse();
    }

    @Test
    void aResponseWithWrongDataChangesNothing() throws Exception {
        migrator = migrator();
        byte[] data = challengeData(migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO));
        data[7] ^= 0x55;

        assertThat(migrator.onPathResponse(20 * MS, data)).isEmpty();
        assertThat(migrator.inProgress()).isTrue();
    }

    @Test
    void aPortOnlyChangeKeepsTheCongestionState() throws Exception {
        migrator = migrator();

        List<MigrationAction> actions = migrator.migrate(0, WIFI_NEW_PORT, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        assertThat(actions).noneMatch(action -> action instanceof ResetRecovery);
    }

    @Test
    void anUnansweredPathIsAbandonedAtThreePtosAndTheConnectionFallsBack() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        int challenges = 1;
        List<MigrationAction> last = List.of();
        long now = 0;
        while (migrator.inProgress()) {
            now = migrator.nextTimerNanos();
            assertThat(now).as("the timer never runs past the validation deadline").isLessThanOrEqualTo(TIMEOUT_MS * MS);
            last = migrator.onTimer(now);
            challenges += (int) last.stream().filter(action -> action instanceof SendPathChallenge).count();
        }

        assertThat(now).isEqualTo(TIMEOUT_MS * MS);
        assertThat(challenges).as("challenges at 0, 1024 ms and 3072 ms minus the last").isEqualTo(2);
        assertThat(last).containsSubsequence(
                new RetirePeerId(1),
                new StateChanged(MigrationState.MIGRATION_STARTED, MigrationState.MIGRATION_ABANDONED, CELLULAR, now),
                new ClosePath(CELLULAR));
        UsePath back = (UsePath) last.stream().filter(action -> action instanceof UsePath).findFirst().orElseThrow();
        assertThat(back.tuple()).isEqualTo(WIFI);
        assertThat(back.peerId().id()).as("the old path keeps the ID only it used").isEqualTo(ConnectionId.fromHex("5e0000"));
        MigrationOutcome outcome = ((Finished) last.get(last.size() - 1)).outcome();
        assertThat(outcome.fellBack()).isTrue();
        assertThat(outcome.validated()).isFalse();
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void anUnansweredPathIsKeptWhenTheOldPathFailedThereIsNothingToFallBackTo() throws Exception {
        migrator = migrator();
        migrator.onPathFailed(0, WIFI);
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.WRITE_ERROR, true, false, PTO);

        List<MigrationAction> last = List.of();
        while (migrator.inProgress()) {
            last = migrator.onTimer(migrator.nextTimerNanos());
        }

        assertThat(last).noneMatch(action -> action instanceof UsePath);
        assertThat(last).containsSubsequence(new RetirePeerId(0), new ClosePath(WIFI));
        MigrationOutcome outcome = ((Finished) last.get(last.size() - 1)).outcome();
        assertThat(outcome.validated()).isFalse();
        assertThat(outcome.fellBack()).isFalse();
        assertThat(outcome.cause()).isEqualTo(MigrationCause.WRITE_ERROR);
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
        assertThat(peerIds.current(CELLULAR)).as("the new path keeps its ID").isPresent();
    }

    @Test
    void aMoveOffANetworkThatIsGoneNeverFallsBackToIt() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.NETWORK_LOST, true, false, PTO);

        List<MigrationAction> last = List.of();
        while (migrator.inProgress()) {
            last = migrator.onTimer(migrator.nextTimerNanos());
        }

        MigrationOutcome outcome = ((Finished) last.get(last.size() - 1)).outcome();
        assertThat(outcome.validated()).isFalse();
        assertThat(outcome.fellBack()).as("no way back to an address that is gone").isFalse();
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
    }

    @Test
    void aPathThatWorksAgainIsAFallbackAgain() throws Exception {
        migrator = migrator();
        migrator.onPathFailed(0, WIFI);
        migrator.onPathWorks(WIFI);
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        List<MigrationAction> last = List.of();
        while (migrator.inProgress()) {
            last = migrator.onTimer(migrator.nextTimerNanos());
        }

        assertThat(((Finished) last.get(last.size() - 1)).outcome().fellBack()).isTrue();
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void validateThenSwitchKeepsDataOnTheOldPathUntilTheNewOneAnswers() throws Exception {
        migrator = migrator();

        List<MigrationAction> start = migrator.migrate(0, CELLULAR, MigrationMode.VALIDATE_THEN_SWITCH, true, false, PTO);

        assertThat(start).noneMatch(action -> action instanceof UsePath);
        assertThat(start.get(0)).isEqualTo(new StateChanged(null, MigrationState.PROBING_STARTED, CELLULAR, 0));
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);

        List<MigrationAction> done = migrator.onPathResponse(30 * MS, challengeData(start));

        assertThat(done).extracting(action -> action.getClass().getSimpleName()).containsExactly(
                "PathValidated", "StateChanged", "StateChanged", "UsePath", "ResetRecovery", "StateChanged",
                "RetirePeerId", "ClosePath", "SeedRecoveryFromValidation", "Finished", "AnnounceMove");
        assertThat(done).contains(new MigrationAction.PathValidated(CELLULAR, 30 * MS), new RetirePeerId(0, true),
                new MigrationAction.SeedRecoveryFromValidation(30 * MS), new MigrationAction.AnnounceMove(CELLULAR));
        assertThat(only(done, UsePath.class).beforeValidation()).as("validated already").isFalse();
        assertThat(done).filteredOn(action -> action instanceof StateChanged)
                .extracting(action -> ((StateChanged) action).to())
                .containsExactly(MigrationState.PROBING_SUCCESSFUL, MigrationState.MIGRATION_STARTED,
                        MigrationState.MIGRATION_COMPLETE);
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
    }

    @Test
    void aFailedProbeNeverMovesTheConnection() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.VALIDATE_THEN_SWITCH, true, false, PTO);

        List<MigrationAction> last = List.of();
        while (migrator.inProgress()) {
            last = migrator.onTimer(migrator.nextTimerNanos());
        }

        assertThat(last).noneMatch(action -> action instanceof UsePath);
        assertThat(last).contains(new StateChanged(MigrationState.PROBING_STARTED, MigrationState.PROBING_ABANDONED,
                CELLULAR, TIMEOUT_MS * MS));
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void aHundredMigrationsInARowNeverReuseAnIdOnTwoPaths() throws Exception {
        migrator = migrator();
        Map<ConnectionId, Tuple> pathOfId = new HashMap<>();
        pathOfId.put(ConnectionId.fromHex("5e0000"), WIFI);
        long now = 0;
        for (int i = 0; i < 100; i++) {
            Tuple next = new Tuple(new InetSocketAddress(i % 2 == 0 ? "127.0.0.3" : "127.0.0.2", 7000 + i), SERVER);
            List<MigrationAction> start = migrator.migrate(now, next, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);
            UsePath use = (UsePath) start.stream().filter(action -> action instanceof UsePath).findFirst().orElseThrow();
            assertThat(pathOfId.putIfAbsent(use.peerId().id(), next)).as("ID %s used before", use.peerId().id()).isNull();
            now += 10 * MS;
            List<MigrationAction> done = migrator.onPathResponse(now, challengeData(start));
            assertThat(done).anyMatch(action -> action instanceof RetirePeerId);
            // The server answers each RETIRE_CONNECTION_ID with a fresh ID (RFC 9000 5.1.1), as Kwik and ngtcp2 do.
            giveSpareId();
        }
        assertThat(migrator.activeTuple().local().getPort()).isEqualTo(7099);
        assertThat(peerIds.activeCount()).as("retired IDs do not pile up").isEqualTo(2);
    }

    @Test
    void whenThePeerRetiresTheIdInUseTheActivePathMovesToAReplacement() throws Exception {
        migrator = migrator();

        List<MigrationAction> actions = migrator.onNewConnectionId(1_000 * MS, 2, ConnectionId.fromHex("5e0002"),
                StatelessResetToken.random(random), 1);

        assertThat(actions).contains(new RetirePeerId(0));
        UsePath use = (UsePath) actions.stream().filter(action -> action instanceof UsePath).findFirst().orElseThrow();
        assertThat(use.tuple()).isEqualTo(WIFI);
        assertThat(use.peerId().sequence()).isEqualTo(1);
    }

    @Test
    void aFallBackAfterTheServerRetiredTheOldPathsIdUsesItsReplacement() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);
        // RFC 9000 5.1.2: "Upon receipt of an increased Retire Prior To field, the peer MUST stop using the
        // corresponding connection IDs".
        List<MigrationAction> retired = migrator.onNewConnectionId(1_000 * MS, 2, ConnectionId.fromHex("5e0002"),
                StatelessResetToken.random(random), 1);
        assertThat(retired).contains(new RetirePeerId(0));

        List<MigrationAction> last = List.of();
        while (migrator.inProgress()) {
            last = migrator.onTimer(migrator.nextTimerNanos());
        }

        UsePath back = (UsePath) last.stream().filter(action -> action instanceof UsePath).findFirst().orElseThrow();
        assertThat(back.tuple()).isEqualTo(WIFI);
        assertThat(back.peerId().sequence()).as("the replacement of the retired ID 0").isEqualTo(2);
    }

    @Test
    void challengesAndTheSwitchUseTheReplacementOfAProbedPathsRetiredId() throws Exception {
        migrator = migrator();
        giveSpareId();
        migrator.migrate(0, CELLULAR, MigrationMode.VALIDATE_THEN_SWITCH, true, false, PTO);
        assertThat(peerIds.current(CELLULAR)).map(PeerConnectionIds.Entry::sequence).contains(1L);
        migrator.onNewConnectionId(1_000 * MS, 3, ConnectionId.fromHex("5e0003"), StatelessResetToken.random(random), 2);
        ConnectionId replacement = peerIds.current(CELLULAR).orElseThrow().id();
        assertThat(replacement).isNotEqualTo(ConnectionId.fromHex("5e0001"));

        List<MigrationAction> resent = migrator.onTimer(migrator.nextTimerNanos());
        SendPathChallenge challenge = (SendPathChallenge) resent.stream()
                .filter(action -> action instanceof SendPathChallenge).findFirst().orElseThrow();
        assertThat(challenge.peerId()).as("the challenge after the retirement").isEqualTo(replacement);
        List<MigrationAction> done = migrator.onPathResponse(2_000 * MS, challenge.data());

        UsePath use = (UsePath) done.stream().filter(action -> action instanceof UsePath).findFirst().orElseThrow();
        assertThat(use.peerId().id()).as("the switch after the retirement").isEqualTo(replacement);
    }

    @Test
    void aServerThatRetiresBothIdsOfAMigrationForOneNewIdLeavesTheConnectionOnItsPath() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO);

        List<MigrationAction> actions = migrator.onNewConnectionId(1_000 * MS, 2, ConnectionId.fromHex("5e0002"),
                StatelessResetToken.random(random), 2);

        assertThat(actions).contains(new RetirePeerId(0), new RetirePeerId(1));
        assertThat(peerIds.current(migrator.activeTuple())).map(PeerConnectionIds.Entry::sequence).contains(2L);
        assertThat(actions).as("the path left has no ID: closed").contains(new MigrationAction.ClosePath(WIFI));
        // With nothing to fall back to, a failed validation leaves the connection where it is.
        List<MigrationAction> later = new java.util.ArrayList<>();
        for (long t = 1_000 * MS; migrator.nextTimerNanos() != Long.MAX_VALUE && t < 60_000 * MS; t += 10 * MS) {
            later.addAll(migrator.onTimer(Math.max(t, migrator.nextTimerNanos())));
        }
        assertThat(later).noneMatch(action -> action instanceof UsePath || action instanceof MigrationAction.ClosePath);
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
    }

    @Test
    void aProbedPathThatLosesItsIdEndsTheProbeAndKeepsTheConnection() throws Exception {
        migrator = migrator();
        migrator.migrate(0, CELLULAR, MigrationMode.VALIDATE_THEN_SWITCH, true, false, PTO);

        List<MigrationAction> actions = migrator.onNewConnectionId(5 * MS, 2, ConnectionId.fromHex("5e0002"),
                StatelessResetToken.random(random), 2);

        assertThat(peerIds.current(WIFI)).map(PeerConnectionIds.Entry::sequence).contains(2L);
        assertThat(actions).contains(new MigrationAction.ClosePath(CELLULAR));
        assertThat(actions).anySatisfy(action -> assertThat(action).isInstanceOfSatisfying(
                MigrationAction.Finished.class, finished -> assertThat(finished.outcome().validated()).isFalse()));
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
        assertThat(migrator.nextTimerNanos()).as("nothing left running").isEqualTo(Long.MAX_VALUE);
    }

    private static byte[] challengeData(List<MigrationAction> actions) {
        return actions.stream().filter(action -> action instanceof SendPathChallenge)
                .map(action -> ((SendPathChallenge) action).data()).findFirst().orElseThrow();
    }

    private static <T extends MigrationAction> T only(List<MigrationAction> actions, Class<T> type) {
        List<T> found = actions.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(found).hasSize(1);
        return found.get(0);
    }
}
