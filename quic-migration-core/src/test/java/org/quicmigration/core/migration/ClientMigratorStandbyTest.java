package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
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
import org.quicmigration.core.migration.MigrationAction.StandbyChanged;
import org.quicmigration.core.migration.MigrationAction.StateChanged;
import org.quicmigration.core.migration.MigrationAction.UsePath;

/** A client's standby path (probe, re-probe, failure, the move to it, losing its ID), in virtual time. */
class ClientMigratorStandbyTest {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final Tuple WIFI = new Tuple(new InetSocketAddress("127.0.0.2", 5000), SERVER);
    private static final Tuple CELLULAR = new Tuple(new InetSocketAddress("127.0.0.3", 6000), SERVER);
    private static final Tuple THIRD = new Tuple(new InetSocketAddress("127.0.0.4", 7000), SERVER);
    private static final Duration PTO = Duration.ofMillis(50);
    private static final Duration INTERVAL = Duration.ofSeconds(20);
    /** 3 x max(50 ms, initial PTO of 1024 ms). */
    private static final long TIMEOUT_MS = 3 * 1024;

    private final SplittableRandom random = new SplittableRandom(7);
    private final PeerConnectionIds peerIds = new PeerConnectionIds(2, ConnectionId.fromHex("5e0000"), null);
    private final ClientMigrator migrator;

    ClientMigratorStandbyTest() throws Exception {
        peerIds.bind(WIFI, 0);
        peerIds.onNewConnectionId(1, ConnectionId.fromHex("5e0001"), StatelessResetToken.random(random), 0);
        migrator = new ClientMigrator(peerIds, WIFI, Duration.ofMillis(25), random);
    }

    @Test
    void aStandbyIsProbedWithAConnectionIdOfItsOwnAndIsReadyOnceItAnswers() throws Exception {
        List<MigrationAction> added = migrator.addStandby(0, CELLULAR, true, false, PTO, INTERVAL);

        assertThat(added).first().isEqualTo(new StandbyChanged(CELLULAR, StandbyState.PROBING, -1));
        SendPathChallenge probe = only(added, SendPathChallenge.class);
        // RFC 9000 9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one local address".
        assertThat(probe.tuple()).isEqualTo(CELLULAR);
        assertThat(probe.peerId()).isEqualTo(ConnectionId.fromHex("5e0001"));
        assertThat(migrator.activeTuple()).as("data stays on the active path").isEqualTo(WIFI);
        migrator.challengeLeft(1 * MS, probe.data());

        assertThat(migrator.onPathResponse(31 * MS, probe.data()))
                .containsExactly(new StandbyChanged(CELLULAR, StandbyState.READY, 30 * MS));
        assertThat(migrator.inProgress()).as("a standby is not a migration").isFalse();
    }

    @Test
    void theMoveToAReadyStandbySwitchesAtOnceWithoutAChallenge() throws Exception {
        ready();

        List<MigrationAction> move = migrator.migrate(5_000 * MS, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE,
                MigrationCause.NETWORK_LOST, true, false, PTO);

        assertThat(move).noneMatch(SendPathChallenge.class::isInstance);
        assertThat(only(move, UsePath.class).peerId().id()).isEqualTo(ConnectionId.fromHex("5e0001"));
        assertThat(move).contains(new ResetRecovery(CELLULAR), new RetirePeerId(0, true), new ClosePath(WIFI),
                new StandbyChanged(CELLULAR, StandbyState.IN_USE, 30 * MS));
        assertThat(move).first().isEqualTo(new MigrationAction.PathValidated(CELLULAR, 30 * MS));
        assertThat(move).last().isEqualTo(new MigrationAction.AnnounceMove(CELLULAR));
        assertThat(move.stream().filter(StateChanged.class::isInstance).map(a -> ((StateChanged) a).to()))
                .containsExactly(MigrationState.MIGRATION_STARTED, MigrationState.MIGRATION_COMPLETE);
        MigrationOutcome outcome = only(move, Finished.class).outcome();
        assertThat(outcome.validated()).isTrue();
        assertThat(outcome.cause()).isEqualTo(MigrationCause.NETWORK_LOST);
        assertThat(outcome.validationRttNanos()).as("the standby's round trip").isEqualTo(30 * MS);
        assertThat(migrator.activeTuple()).isEqualTo(CELLULAR);
        assertThat(migrator.inProgress()).isFalse();
        assertThat(migrator.standbyTuple()).isEmpty();
    }

    @Test
    void aReadyStandbyIsProbedAgainAtItsIntervalWithNewData() throws Exception {
        byte[] first = ready();

        assertThat(migrator.nextTimerNanos()).isEqualTo(31 * MS + INTERVAL.toNanos());
        assertThat(migrator.onTimer(31 * MS + INTERVAL.toNanos() - 1)).isEmpty();
        SendPathChallenge again = only(migrator.onTimer(31 * MS + INTERVAL.toNanos()), SendPathChallenge.class);

        assertThat(again.tuple()).isEqualTo(CELLULAR);
        // RFC 9000 8.2.1: "The endpoint MUST use unpredictable data in every PATH_CHALLENGE frame".
        assertThat(again.data()).isNotEqualTo(first);
        assertThat(migrator.onPathResponse(20_100 * MS, again.data())).as("still ready: no change to report").isEmpty();
    }

    @Test
    void aStandbyThatStopsAnsweringFailsAndIsReadyAgainWhenItAnswersALaterProbe() throws Exception {
        ready();
        long reprobe = 31 * MS + INTERVAL.toNanos();
        migrator.onTimer(reprobe);

        List<MigrationAction> timedOut = migrator.onTimer(reprobe + TIMEOUT_MS * MS);

        assertThat(timedOut).containsExactly(new StandbyChanged(CELLULAR, StandbyState.FAILED, 30 * MS));
        long next = reprobe + TIMEOUT_MS * MS + INTERVAL.toNanos();
        assertThat(migrator.nextTimerNanos()).isEqualTo(next);
        SendPathChallenge probe = only(migrator.onTimer(next), SendPathChallenge.class);
        assertThat(migrator.onPathResponse(next + 40 * MS, probe.data()))
                .containsExactly(new StandbyChanged(CELLULAR, StandbyState.READY, 40 * MS));
    }

    @Test
    void theMoveToAStandbyThatHasNotAnsweredValidatesTheUsualWay() throws Exception {
        migrator.addStandby(0, CELLULAR, true, false, PTO, INTERVAL);

        List<MigrationAction> move = migrator.migrate(10 * MS, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true,
                false, PTO);

        assertThat(move).first().isEqualTo(new StandbyChanged(CELLULAR, StandbyState.IN_USE, -1));
        assertThat(only(move, SendPathChallenge.class).peerId()).as("the ID the standby was given")
                .isEqualTo(ConnectionId.fromHex("5e0001"));
        assertThat(move).noneMatch(Finished.class::isInstance);
        assertThat(migrator.inProgress()).isTrue();
    }

    @Test
    void aStandbyWhoseSocketFailedIsNotMovedToWithoutValidation() throws Exception {
        ready();

        assertThat(migrator.onPathFailed(40 * MS, CELLULAR))
                .containsExactly(new StandbyChanged(CELLULAR, StandbyState.FAILED, 30 * MS));
        List<MigrationAction> move = migrator.migrate(50 * MS, CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE, true,
                false, PTO);

        assertThat(move).anyMatch(SendPathChallenge.class::isInstance).noneMatch(Finished.class::isInstance);
    }

    @Test
    void whileAStandbyHoldsTheSpareIdAMoveElsewhereIsRefusedAndSaysWhy() throws Exception {
        ready();

        assertThatThrownBy(() -> migrator.migrate(40 * MS, THIRD, MigrationMode.SWITCH_THEN_VALIDATE, true, false, PTO))
                .isInstanceOf(MigrationRefusedException.class)
                .hasMessageContaining("standby path " + CELLULAR)
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.NO_SPARE_CONNECTION_ID);
        assertThatThrownBy(() -> migrator.addStandby(40 * MS, THIRD, true, false, PTO, INTERVAL))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.STANDBY_EXISTS);
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
        assertThat(migrator.standbyTuple()).contains(CELLULAR);
    }

    @Test
    void aStandbyFollowsTheRulesOfAMigration() throws Exception {
        assertThatThrownBy(() -> migrator.addStandby(0, CELLULAR, false, false, PTO, INTERVAL))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.HANDSHAKE_NOT_CONFIRMED);
        // RFC 9000 18.2: with disable_active_migration "the endpoint MUST NOT use a new local address when sending
        // to the address that the peer used during the handshake".
        assertThatThrownBy(() -> migrator.addStandby(0, CELLULAR, true, true, PTO, INTERVAL))
                .extracting(e -> ((MigrationRefusedException) e).refusal())
                .isEqualTo(MigrationRefusal.PEER_DISABLED_MIGRATION);
        assertThat(peerIds.spareCount()).as("no ID was taken").isEqualTo(1);
    }

    @Test
    void removingTheStandbyRetiresItsIdAndClosesItsSocket() throws Exception {
        ready();

        assertThat(migrator.removeStandby()).containsExactly(new RetirePeerId(1), new ClosePath(CELLULAR),
                new StandbyChanged(CELLULAR, StandbyState.REMOVED, -1));
        assertThat(migrator.standbyTuple()).isEmpty();
        assertThat(migrator.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(migrator.removeStandby()).isEmpty();
    }

    @Test
    void aStandbyWhoseIdThePeerRetiresProbesWithTheReplacementOrEndsWithoutOne() throws Exception {
        ready();
        // RFC 9000 5.1.2: retire_prior_to 2 retires both IDs in use; the one new ID goes to the active path first.
        List<MigrationAction> update = migrator.onNewConnectionId(40 * MS, 2, ConnectionId.fromHex("5e0002"),
                StatelessResetToken.random(random), 2);

        assertThat(update).contains(new ClosePath(CELLULAR), new StandbyChanged(CELLULAR, StandbyState.REMOVED, -1));
        assertThat(migrator.standbyTuple()).isEmpty();
        assertThat(migrator.activeTuple()).isEqualTo(WIFI);
    }

    /** Adds the standby on CELLULAR, answered after 30 ms; returns the probe's data. */
    private byte[] ready() throws Exception {
        SendPathChallenge probe = only(migrator.addStandby(0, CELLULAR, true, false, PTO, INTERVAL),
                SendPathChallenge.class);
        migrator.challengeLeft(1 * MS, probe.data());
        assertThat(migrator.onPathResponse(31 * MS, probe.data())).hasSize(1);
        return probe.data();
    }

    private static <T> T only(List<MigrationAction> actions, Class<T> type) {
        List<MigrationAction> matching = actions.stream().filter(type::isInstance).toList();
        assertThat(matching).as("%s in %s", type.getSimpleName(), actions).hasSize(1);
        return type.cast(matching.get(0));
    }
}
