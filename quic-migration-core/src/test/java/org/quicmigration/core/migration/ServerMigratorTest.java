package org.quicmigration.core.migration;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ServerMigrator}: the server's decisions beyond the path manager's, in virtual time. */
class ServerMigratorTest {

    private static final long MS = 1_000_000L;
    private static final Duration PTO = Duration.ofMillis(100);
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final Tuple WIFI = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5000));
    private static final Tuple REBOUND = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 6000));
    private static final Tuple CELLULAR = new Tuple(SERVER, new InetSocketAddress("127.0.0.3", 5000));
    /** Our IDs, as the client sends to them. */
    private static final ConnectionId OURS = ConnectionId.fromHex("a1a1a1a1a1a1a1a1");
    private static final ConnectionId OURS_NEXT = ConnectionId.fromHex("b2b2b2b2b2b2b2b2");
    /** The client's IDs, as the server sends to them. */
    private static final ConnectionId CLIENTS = ConnectionId.fromHex("c0c0c0c0");
    private static final ConnectionId CLIENTS_NEXT = ConnectionId.fromHex("c1c1c1c1");

    private final ServerMigrator migrator = new ServerMigrator(WIFI, 3, 8, Duration.ofMillis(25), null,
            ServerPathManager.DEFAULT_MEMORY, new SplittableRandom(11));

    private ServerMigratorTest() {
        migrator.onDatagram(data(0, WIFI, OURS));
    }

    @Test
    void aPacketOnTheValidatedActivePathToItsUsualIdNeedsNoDecision() {
        assertThat(migrator.routing().isRoutine(WIFI, OURS.bytes())).isTrue();
        assertThat(migrator.routing().isRoutine(WIFI, OURS_NEXT.bytes())).as("another ID of ours").isFalse();
        assertThat(migrator.routing().isRoutine(CELLULAR, OURS.bytes())).as("another path").isFalse();
    }

    /**
     * RFC 9000 9.5: "an endpoint MUST NOT reuse a connection ID when sending to more than one destination address."
     * The ID left behind routes only its old path, where the old path's re-validation (9.3.3) uses it too.
     */
    @Test
    void aClientThatChangedItsIdIsFollowedWithAFreshIdAndTheOldOneKeepsToTheOldPath() {
        List<ServerAction> moved = migrator.onDatagram(data(10 * MS, CELLULAR, OURS_NEXT));

        assertThat(moved).contains(new ServerAction.MigrationStarted(CELLULAR), new ServerAction.UseNextClientId(CELLULAR),
                new ServerAction.ResetRecovery(CELLULAR));
        assertThat(moved).noneMatch(ServerAction.SnapshotCongestion.class::isInstance);
        assertThat(frame(moved, ServerAction.PathFrame.CHALLENGE, CELLULAR).sealWith()).as("the new path: the ID in use")
                .isNull();
        assertThat(frame(moved, ServerAction.PathFrame.CHALLENGE, WIFI).sealWith()).as("the old path: the ID left")
                .isEqualTo(CLIENTS);
        ServerRouting routing = migrator.routing();
        assertThat(routing.active()).isEqualTo(CELLULAR);
        assertThat(routing.activeValidated()).isFalse();
        assertThat(routing.leftPathFor(shortHeader(CLIENTS), 0, 40)).isEqualTo(WIFI);
        assertThat(routing.leftPathFor(shortHeader(CLIENTS_NEXT), 0, 40)).isNull();
        assertThat(migrator.routing().isRoutine(CELLULAR, OURS_NEXT.bytes())).as("not validated yet").isFalse();
    }

    @Test
    void aClientWithNoSpareIdKeepsTheOneInUseOnTheNewPath() {
        migrator.onDatagram(data(10 * MS, CELLULAR, OURS_NEXT));

        migrator.onNoSpareClientId();

        assertThat(migrator.routing().leftId()).isNull();
    }

    /** RFC 9000 9.4: congestion control is kept "if the only change in the peer's address is its port number". */
    @Test
    void aNatRebindingKeepsTheIdAndGoesBackToItsCongestionStateOnceValidated() {
        List<ServerAction> rebound = migrator.onDatagram(data(10 * MS, REBOUND, OURS));

        assertThat(rebound).first().isEqualTo(new ServerAction.SnapshotCongestion());
        assertThat(rebound).noneMatch(a -> a instanceof ServerAction.UseNextClientId
                || a instanceof ServerAction.ResetRecovery);
        List<ServerAction> again = migrator.onDatagram(data(11 * MS, rebindAgain(), OURS));
        assertThat(again).as("the first of several rebindings in a row is the state to go back to")
                .noneMatch(ServerAction.SnapshotCongestion.class::isInstance);
        byte[] challenge = frame(again, ServerAction.PathFrame.CHALLENGE, rebindAgain()).data();
        migrator.onChallengeLeft(11 * MS, challenge, true);

        List<ServerAction> validated = migrator.onDatagram(response(40 * MS, rebindAgain(), challenge));

        assertThat(validated).contains(new ServerAction.RestoreCongestion());
        assertThat(validated).noneMatch(a -> a instanceof ServerAction.SeedRtt || a instanceof ServerAction.StartRecoveryPeriod);
        assertThat(validated).contains(new ServerAction.Migrated(WIFI, rebindAgain()));
    }

    @Test
    void aMigrationSeedsTheRttFromItsValidationAndStartsARecoveryPeriod() {
        List<ServerAction> moved = migrator.onDatagram(data(10 * MS, CELLULAR, OURS_NEXT));
        migrator.onClientIdSwitched(CELLULAR, 0, CLIENTS, CLIENTS_NEXT);
        byte[] challenge = frame(moved, ServerAction.PathFrame.CHALLENGE, CELLULAR).data();
        migrator.onChallengeLeft(10 * MS, challenge, true);

        List<ServerAction> validated = migrator.onDatagram(response(40 * MS, CELLULAR, challenge));

        assertThat(validated).containsSubsequence(new ServerAction.SeedRtt(30 * MS), new ServerAction.StartRecoveryPeriod(),
                new ServerAction.ValidationSucceeded(CELLULAR, 30 * MS), new ServerAction.Migrated(WIFI, CELLULAR));
        assertThat(validated).noneMatch(ServerAction.RestoreCongestion.class::isInstance);
        assertThat(migrator.routing().activeValidated()).isTrue();
    }

    /**
     * RFC 9000 9.3.3's challenge of the old path carries the ID left there (9.5), so that ID is retired only once that
     * validation ended; and never before the switch that left it is confirmed.
     */
    @Test
    void theIdLeftIsRetiredOnceTheOldPathsValidationEnded() {
        List<ServerAction> moved = migrator.onDatagram(data(10 * MS, CELLULAR, OURS_NEXT));
        assertThat(migrator.onClientIdSwitched(CELLULAR, 0, CLIENTS, CLIENTS_NEXT))
                .containsExactly(new ServerAction.ClientIdChanged(CLIENTS, CLIENTS_NEXT, CELLULAR));
        List<ServerAction> validated = migrator.onDatagram(response(40 * MS, CELLULAR,
                frame(moved, ServerAction.PathFrame.CHALLENGE, CELLULAR).data()));
        assertThat(validated).contains(new ServerAction.Migrated(WIFI, CELLULAR))
                .noneMatch(ServerAction.RetireClientId.class::isInstance);
        long retry = migrator.nextTimerNanos();
        assertThat(retry).as("asked again after two PTOs").isLessThanOrEqualTo(40 * MS + 200 * MS);
        assertThat(migrator.onTimer(retry)).as("the old path is still being validated")
                .noneMatch(ServerAction.RetireClientId.class::isInstance);

        migrator.onDatagram(response(retry + MS, CELLULAR, frame(moved, ServerAction.PathFrame.CHALLENGE, WIFI).data()));
        long due = migrator.nextTimerNanos();

        assertThat(migrator.onTimer(due)).contains(new ServerAction.RetireClientId(0));
        assertThat(migrator.routing().leftId()).as("nothing may use a retired ID").isNull();
    }

    @Test
    void aMoveToAPathTheClientProbedFirstAnswersThereWithTheNextIdAndRetiresTheOldOneAfterADelay() {
        List<ServerAction> probed = migrator.onDatagram(challenge(10 * MS, CELLULAR, OURS_NEXT, bytes(7)));

        ServerAction.SendPathFrame answer = frame(probed, ServerAction.PathFrame.RESPONSE, CELLULAR);
        assertThat(answer.data()).as("RFC 9000 8.2.2: on the path the challenge came on").isEqualTo(bytes(7));
        assertThat(answer.sealWith()).as("an ID of its own there (RFC 9000 9.5)").isEqualTo(CLIENTS_NEXT);
        assertThat(answer.leavesRecovery()).as("the client probes this path: kept in recovery").isFalse();
        ServerAction.SendPathFrame ours = frame(probed, ServerAction.PathFrame.CHALLENGE, CELLULAR);
        assertThat(ours.sealWith()).isEqualTo(CLIENTS_NEXT);
        migrator.onChallengeLeft(10 * MS, ours.data(), true);
        migrator.onDatagram(response(30 * MS, CELLULAR, ours.data()));

        List<ServerAction> moved = migrator.onDatagram(data(40 * MS, CELLULAR, OURS_NEXT));

        assertThat(moved).contains(new ServerAction.SeedRtt(20 * MS), new ServerAction.Migrated(WIFI, CELLULAR),
                new ServerAction.UseNextClientId(CELLULAR));
        assertThat(migrator.routing().activeValidated()).as("validated before the move").isTrue();
        assertThat(migrator.onClientIdSwitched(CELLULAR, 0, CLIENTS, CLIENTS_NEXT))
                .noneMatch(ServerAction.RetireClientId.class::isInstance);
        long due = migrator.nextTimerNanos();
        assertThat(due).as("not in the moment of the switch").isGreaterThanOrEqualTo(40 * MS + 100 * MS);
        migrator.onDatagram(response(due - MS, CELLULAR, frame(moved, ServerAction.PathFrame.CHALLENGE, WIFI).data()));

        assertThat(migrator.onTimer(due)).contains(new ServerAction.RetireClientId(0));
    }

    @Test
    void aChallengeTheEngineAnswersItselfIsNotAnsweredTwice() {
        List<ServerAction> probed = migrator.onDatagram(new ServerDatagram(10 * MS, CELLULAR, 1200, false, true,
                OURS_NEXT, List.of(bytes(7)), false, List.of(), CLIENTS, CLIENTS_NEXT, PTO));

        assertThat(probed).noneMatch(a -> a instanceof ServerAction.SendPathFrame frame
                && frame.frame() == ServerAction.PathFrame.RESPONSE);
    }

    /** The first datagram on a new path is its challenge; then the path's budget (RFC 9000 8) decides. */
    @Test
    void onANewPathNothingOvertakesItsChallengeAndThenTheBudgetLimitsWhatGoes() {
        migrator.onDatagram(data(10 * MS, CELLULAR, OURS_NEXT)); // 1200 bytes received: 3600 may go

        assertThat(migrator.mayPass(100)).as("before the challenge").isFalse();
        assertThat(migrator.mayProbe(CELLULAR, 1200)).isTrue();
        assertThat(migrator.mayPass(1200)).isTrue();
        assertThat(migrator.mayPass(1200)).isTrue();
        assertThat(migrator.mayPass(1200)).as("three times what came").isFalse();
    }

    @Test
    void pathFramesToAPathTheClientDidNotProbeLeaveTheEnginesRecovery() {
        List<ServerAction> rebound = migrator.onDatagram(data(10 * MS, REBOUND, OURS));

        assertThat(frame(rebound, ServerAction.PathFrame.CHALLENGE, REBOUND).leavesRecovery()).isTrue();
        assertThat(frame(rebound, ServerAction.PathFrame.CHALLENGE, WIFI).leavesRecovery()).isTrue();
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static Tuple rebindAgain() {
        return new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 7000));
    }

    private static ServerDatagram data(long now, Tuple tuple, ConnectionId to) {
        return new ServerDatagram(now, tuple, 1200, true, true, to, List.of(), true, List.of(), CLIENTS, CLIENTS_NEXT, PTO);
    }

    private static ServerDatagram challenge(long now, Tuple tuple, ConnectionId to, byte[] data) {
        return new ServerDatagram(now, tuple, 1200, false, true, to, List.of(data), true, List.of(), CLIENTS,
                CLIENTS_NEXT, PTO);
    }

    private static ServerDatagram response(long now, Tuple tuple, byte[] data) {
        return new ServerDatagram(now, tuple, 60, false, false, OURS_NEXT, List.of(), true, List.of(data),
                CLIENTS_NEXT, null, PTO);
    }

    private static ServerAction.SendPathFrame frame(List<ServerAction> actions, ServerAction.PathFrame kind, Tuple tuple) {
        return actions.stream().filter(ServerAction.SendPathFrame.class::isInstance).map(ServerAction.SendPathFrame.class::cast)
                .filter(f -> f.frame() == kind && f.tuple().equals(tuple)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " on " + tuple + " in " + actions));
    }

    private static byte[] shortHeader(ConnectionId destination) {
        byte[] datagram = new byte[40];
        datagram[0] = 0x40;
        System.arraycopy(destination.bytes(), 0, datagram, 1, destination.length());
        return datagram;
    }

    private static byte[] bytes(int value) {
        return new byte[]{(byte) value, 1, 2, 3, 4, 5, 6, 7};
    }
}
