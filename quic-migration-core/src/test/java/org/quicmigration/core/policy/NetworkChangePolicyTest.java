package org.quicmigration.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.policy.PolicyAction.DropStandby;
import org.quicmigration.core.policy.PolicyAction.KeepStandby;
import org.quicmigration.core.policy.PolicyAction.LimitReached;
import org.quicmigration.core.policy.PolicyAction.Migrate;
import org.quicmigration.core.policy.PolicyAction.Resume;
import org.quicmigration.core.policy.PolicyAction.WaitForNetwork;

/** The network-change policy's decisions, in virtual time. */
class NetworkChangePolicyTest {

    private static final long MS = 1_000_000L;
    private static final LocalNetwork WIFI = network("wlan0", "198.18.0.2");
    private static final LocalNetwork CELL = network("rmnet0", "198.18.1.2");
    private static final LocalNetwork ETH = network("eth0", "198.18.3.2");

    private static LocalNetwork network(String name, String address) {
        try {
            return new LocalNetwork(name, InetAddress.getByName(address));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private NetworkChangePolicy onWifi(PolicyConfig config) {
        NetworkChangePolicy policy = new NetworkChangePolicy(config, WIFI.address(), false);
        assertThat(policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address())).as("nothing to do at start").isEmpty();
        return policy;
    }

    @Test
    void aLoopbackServerIsReachedFromLoopbackNetworksOnlyAndAnyOtherFromNoLoopbackOne() throws Exception {
        LocalNetwork loopback = network("lo", "127.0.0.2");
        LocalNetwork v6 = new LocalNetwork("wlan0", InetAddress.getByName("2001:db8::2"));
        List<LocalNetwork> all = List.of(WIFI, loopback, CELL, v6);

        // A connection to 127.0.0.1 must not be moved to Wi-Fi's address: the kernel would deliver it from there.
        assertThat(NetworkChangePolicy.usableToward(all, InetAddress.getByName("127.0.0.1"))).containsExactly(loopback);
        assertThat(NetworkChangePolicy.usableToward(all, InetAddress.getByName("198.18.9.1")))
                .containsExactly(WIFI, CELL);
        assertThat(NetworkChangePolicy.usableToward(all, InetAddress.getByName("2001:db8::1"))).containsExactly(v6);
    }

    @Test
    void removedAddressMovesAtOnceSwitchingFirstToTheOtherNetwork() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());

        List<PolicyAction> actions = policy.onNetworks(10 * MS, List.of(CELL), CELL.address());

        assertThat(actions).containsExactly(
                new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.NETWORK_LOST));
    }

    @Test
    void failedSendMovesWithTheWriteErrorCause() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());

        assertThat(policy.onPathFailed(5 * MS, WIFI.address())).containsExactly(
                new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.WRITE_ERROR));
    }

    @Test
    void failureOfAnotherPathDoesNotMoveTheConnection() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());

        assertThat(policy.onPathFailed(5 * MS, CELL.address())).isEmpty();
    }

    @Test
    void oneMigrationAtATime() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onPathFailed(5 * MS, WIFI.address());

        assertThat(policy.onNetworks(6 * MS, List.of(CELL), CELL.address())).as("a migration is under way").isEmpty();
        assertThat(policy.onMigrationFinished(50 * MS, CELL.address(), true)).isEmpty();
        assertThat(policy.active()).isEqualTo(CELL.address());
    }

    @Test
    void withNoOtherNetworkItWaitsAndMovesWhenOneAppears() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());

        assertThat(policy.onNetworks(10 * MS, List.of(), null)).containsExactly(new WaitForNetwork(WIFI.address()));
        assertThat(policy.waitingForNetwork()).isTrue();
        assertThat(policy.onTimer(5_000 * MS)).as("reported once").isEmpty();

        assertThat(policy.onNetworks(6_000 * MS, List.of(CELL), CELL.address())).containsExactly(
                new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.NETWORK_LOST));
        policy.onMigrationFinished(6_050 * MS, CELL.address(), true);
        assertThat(policy.waitingForNetwork()).isFalse();
    }

    @Test
    void theSameNetworkComingBackEndsTheWait() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(10 * MS, List.of(), null);

        assertThat(policy.onNetworks(900 * MS, List.of(WIFI), WIFI.address()))
                .as("the connection sends on it at once").containsExactly(new Resume(WIFI.address()));
        assertThat(policy.waitingForNetwork()).isFalse();
        assertThat(policy.onTimer(1_000 * MS)).as("resumed once").isEmpty();
    }

    @Test
    void aConnectionLeftOnAnUnansweredPathResumesThereWhenItsNetworkReturns() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        assertThat(policy.onPathFailed(10 * MS, WIFI.address())).containsExactly(
                new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.WRITE_ERROR));
        policy.onNetworks(20 * MS, List.of(), null);
        // The switch to cellular could not be validated, and Wi-Fi had failed: the connection stays on cellular.
        assertThat(policy.onMigrationFinished(3_000 * MS, CELL.address(), false))
                .containsExactly(new WaitForNetwork(CELL.address()));

        assertThat(policy.onNetworks(3_500 * MS, List.of(CELL), CELL.address()))
                .containsExactly(new Resume(CELL.address()));
    }

    @Test
    void aSendThatWorksAgainOnTheActivePathResumesIt() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(5 * MS, List.of(WIFI), WIFI.address());
        assertThat(policy.onPathFailed(10 * MS, WIFI.address())).containsExactly(new WaitForNetwork(WIFI.address()));

        assertThat(policy.onPathWorks(400 * MS, WIFI.address())).containsExactly(new Resume(WIFI.address()));
    }

    @Test
    void aMoveToAnotherNetworkIsNoResumption() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());

        assertThat(policy.onMigrationFinished(60 * MS, CELL.address(), true)).isEmpty();
        assertThat(policy.onNetworks(900 * MS, List.of(WIFI, CELL), WIFI.address()))
                .noneMatch(action -> action instanceof Resume);
    }

    @Test
    void degradingPathIsProbedOnceAfterTheConfiguredProbeTimeouts() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());

        assertThat(policy.onProbeTimeouts(50 * MS, 2)).isEmpty();
        assertThat(policy.onProbeTimeouts(100 * MS, 3)).as("the way out probed one probe timeout ahead")
                .containsExactly(new KeepStandby(CELL.address(), NetworkChangePolicy.AHEAD_PROBE_INTERVAL));
        policy.onStandby(110 * MS, CELL.address());
        assertThat(policy.onProbeTimeouts(300 * MS, 4)).containsExactly(
                new Migrate(CELL.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PATH_DEGRADING));
        policy.onStandby(310 * MS, null); // the move took it
        assertThat(policy.onMigrationFinished(3_300 * MS, WIFI.address(), false)).as("the probe failed").isEmpty();
        assertThat(policy.onProbeTimeouts(3_400 * MS, 5)).as("same episode: no second probe").isEmpty();
        policy.onProbeTimeouts(3_500 * MS, 0);
        assertThat(policy.onProbeTimeouts(9_000 * MS, 4)).as("a new episode").hasSize(1);
    }

    @Test
    void theStandbyProbedAheadOfADegradingMoveIsGivenUpWhenThePathRecovers() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        assertThat(policy.onProbeTimeouts(100 * MS, 3)).hasSize(1);
        assertThat(policy.onProbeTimeouts(120 * MS, 3)).as("asked for once").isEmpty();
        policy.onStandby(130 * MS, CELL.address());

        assertThat(policy.onProbeTimeouts(200 * MS, 0)).containsExactly(new DropStandby(CELL.address()));
        assertThat(policy.onProbeTimeouts(900 * MS, 3)).as("a new episode")
                .containsExactly(new KeepStandby(CELL.address(), NetworkChangePolicy.AHEAD_PROBE_INTERVAL));
    }

    @Test
    void noStandbyIsProbedAheadWithoutTheDegradingRuleOrAnotherNetwork() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig noDegrading = new PolicyConfig(true, true, false, 4, true, d.returnFirstRetry(), d.returnMaxRetry(),
                d.maxMigrationsPerCause(), d.maxTimeAway(), d.retryAfterFailure(), List.of());
        assertThat(onWifi(noDegrading).onProbeTimeouts(100 * MS, 3)).isEmpty();

        NetworkChangePolicy alone = onWifi(PolicyConfig.defaults());
        alone.onNetworks(50 * MS, List.of(WIFI), WIFI.address());
        assertThat(alone.onProbeTimeouts(100 * MS, 3)).isEmpty();
    }

    @Test
    void probeTimeoutsCountedBeforeAMoveDoNotCountAgainstTheNewPath() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onProbeTimeouts(300 * MS, 4);
        policy.onMigrationFinished(400 * MS, CELL.address(), true);

        assertThat(policy.onProbeTimeouts(450 * MS, 5)).as("one more than before the move").isEmpty();
        assertThat(policy.onProbeTimeouts(900 * MS, 8)).as("four on the new path").containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PATH_DEGRADING));
    }

    @Test
    void preferredNetworkBackIsProbedAtOnceAndFailedReturnsBackOffFromOneToAHundredTwentyEightSeconds() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());
        policy.onMigrationFinished(60 * MS, CELL.address(), true);

        long now = 2_000 * MS;
        assertThat(policy.onNetworks(now, List.of(WIFI, CELL), WIFI.address())).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            now += 3_000 * MS;
            assertThat(policy.onMigrationFinished(now, CELL.address(), false)).isEmpty();
            long next = policy.nextTimerNanos();
            waits.add((next - now) / MS);
            assertThat(policy.onTimer(next - 1)).as("not before its time").isEmpty();
            List<PolicyAction> retry = policy.onTimer(next);
            if (i < 4) {
                assertThat(retry).hasSize(1);
            }
            now = next;
        }
        assertThat(waits).startsWith(1_000L, 2_000L, 4_000L, 8_000L);
    }

    @Test
    void aNetworkThatAppearsBeforeItsRouteIsReturnedToWhenTheKernelRoutesOverIt() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());
        policy.onMigrationFinished(60 * MS, CELL.address(), true);

        // Wi-Fi's address is back, its route not yet: the kernel still sends from cellular, which ranks first.
        assertThat(policy.onNetworks(2_000 * MS, List.of(WIFI, CELL), CELL.address())).isEmpty();
        assertThat(policy.onNetworks(2_250 * MS, List.of(WIFI, CELL), WIFI.address())).as("the route arrived")
                .containsExactly(new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                        MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void aReturnThatFailedForWantOfARouteIsTriedAgainWhenTheKernelRoutesOverTheNetwork() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, d.returnFirstRetry(), d.returnMaxRetry(), 5,
                d.maxTimeAway(), d.retryAfterFailure(), List.of("wlan*", "rmnet*"));
        NetworkChangePolicy policy = new NetworkChangePolicy(config, WIFI.address(), false);
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());
        policy.onMigrationFinished(60 * MS, CELL.address(), true);

        // Wi-Fi's address is back before its route: Wi-Fi ranks first by name, and its probe cannot be sent.
        assertThat(policy.onNetworks(2_000 * MS, List.of(WIFI, CELL), CELL.address())).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
        policy.onPathFailed(2_001 * MS, WIFI.address());
        policy.onMigrationFinished(2_002 * MS, CELL.address(), false);
        assertThat(policy.onTimer(policy.nextTimerNanos())).as("a network whose send failed is not tried").isEmpty();

        assertThat(policy.onNetworks(3_500 * MS, List.of(WIFI, CELL), WIFI.address())).as("its route arrived")
                .containsExactly(new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                        MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void aPreferredNetworkBackIsReturnedToEvenIfAReportInBetweenLeftOutTheActiveOne() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, d.returnFirstRetry(), d.returnMaxRetry(), 5,
                d.maxTimeAway(), d.retryAfterFailure(), List.of("wlan*", "rmnet*"));
        NetworkChangePolicy policy = new NetworkChangePolicy(config, WIFI.address(), false);
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());
        policy.onPathFailed(100 * MS, WIFI.address());
        policy.onMigrationFinished(104 * MS, CELL.address(), true);
        policy.onNetworks(200 * MS, List.of(CELL), CELL.address());
        assertThat(policy.onTimer(policy.nextTimerNanos())).as("the planned return finds Wi-Fi gone").isEmpty();

        // Wi-Fi comes back, and one report leaves out cellular: the connection tries to move to Wi-Fi, which fails.
        assertThat(policy.onNetworks(5_000 * MS, List.of(WIFI), null)).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.NETWORK_LOST));
        policy.onMigrationFinished(5_010 * MS, CELL.address(), false);

        assertThat(policy.onNetworks(5_250 * MS, List.of(WIFI, CELL), WIFI.address())).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void aNetworkTheApplicationChoseIsNotLeftWhenOnlyTheKernelsChoiceChanges() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onMigrationStarted(100 * MS, MigrationCause.APPLICATION);
        policy.onMigrationFinished(150 * MS, CELL.address(), true);
        policy.onNetworks(200 * MS, List.of(WIFI, CELL), CELL.address());

        assertThat(policy.onNetworks(450 * MS, List.of(WIFI, CELL), WIFI.address())).isEmpty();
        assertThat(policy.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void returnsAreRetriedWithoutALimitButGoOnlyAsFarAsTheMaximumWait() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, Duration.ofSeconds(1), Duration.ofSeconds(4),
                100, Duration.ofMinutes(10), d.retryAfterFailure(), List.of());
        NetworkChangePolicy policy = onWifi(config);
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());
        policy.onMigrationFinished(60 * MS, CELL.address(), true);
        long now = 1_000 * MS;
        policy.onNetworks(now, List.of(WIFI, CELL), WIFI.address());
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            now += 100 * MS;
            policy.onMigrationFinished(now, CELL.address(), false);
            waits.add((policy.nextTimerNanos() - now) / MS);
            now = policy.nextTimerNanos();
            assertThat(policy.onTimer(now)).hasSize(1);
        }
        assertThat(waits).containsExactly(1_000L, 2_000L, 4_000L, 4_000L, 4_000L);
    }

    @Test
    void successfulReturnStopsTheRetries() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onNetworks(10 * MS, List.of(CELL), CELL.address());
        policy.onMigrationFinished(60 * MS, CELL.address(), true);
        policy.onNetworks(2_000 * MS, List.of(WIFI, CELL), WIFI.address());

        assertThat(policy.onMigrationFinished(2_100 * MS, WIFI.address(), true)).isEmpty();
        assertThat(policy.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(policy.active()).isEqualTo(WIFI.address());
    }

    @Test
    void afterLeavingADegradedPreferredNetworkItTriesToReturnAfterTheFirstRetry() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onProbeTimeouts(300 * MS, 4);
        policy.onMigrationFinished(400 * MS, CELL.address(), true);

        assertThat(policy.nextTimerNanos()).isEqualTo(1_400 * MS);
        assertThat(policy.onTimer(1_400 * MS)).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void returnsStopAfterTheMaximumTimeAway() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, Duration.ofSeconds(1), Duration.ofSeconds(1),
                100, Duration.ofSeconds(5), d.retryAfterFailure(), List.of());
        NetworkChangePolicy policy = onWifi(config);
        policy.onProbeTimeouts(0, 4);
        policy.onMigrationFinished(0, CELL.address(), true);
        long now = 0;
        int attempts = 0;
        while (policy.nextTimerNanos() != Long.MAX_VALUE && attempts < 100) {
            now = policy.nextTimerNanos();
            if (!policy.onTimer(now).isEmpty()) {
                attempts++;
                policy.onMigrationFinished(now, CELL.address(), false);
            }
        }
        assertThat(attempts).as("one attempt a second for five seconds").isEqualTo(5);
    }

    @Test
    void atMostTheConfiguredMigrationsPerCause() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        InetAddress on = WIFI.address();
        long now = 0;
        List<PolicyAction> last = List.of();
        for (int i = 0; i < 6; i++) {
            now += 1_000 * MS;
            last = policy.onPathFailed(now, on);
            if (i < 5) {
                Migrate migrate = (Migrate) last.get(0);
                on = migrate.local();
                policy.onMigrationFinished(now + 50 * MS, on, true);
                policy.onPathWorks(now + 60 * MS, on.equals(WIFI.address()) ? CELL.address() : WIFI.address());
            }
        }
        assertThat(last).containsExactly(new LimitReached(MigrationCause.WRITE_ERROR, 5));
        assertThat(policy.onPathFailed(now + 1, on)).as("reported once").isEmpty();
    }

    @Test
    void aFailedMigrationIsRetriedAfterTheRetryDelay() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onPathFailed(0, WIFI.address());
        assertThat(policy.onMigrationFinished(10 * MS, WIFI.address(), false)).as("too soon").isEmpty();

        assertThat(policy.nextTimerNanos()).isEqualTo(260 * MS);
        assertThat(policy.onTimer(260 * MS)).containsExactly(
                new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.WRITE_ERROR));
    }

    @Test
    void theApplicationsChoiceStandsUntilTheNetworksChange() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.defaults());
        policy.onMigrationStarted(0, MigrationCause.APPLICATION);
        assertThat(policy.onMigrationFinished(50 * MS, CELL.address(), true)).isEmpty();
        assertThat(policy.onTimer(10_000 * MS)).isEmpty();

        policy.onNetworks(20_000 * MS, List.of(WIFI, CELL, ETH), WIFI.address());
        assertThat(policy.nextTimerNanos()).as("the network set changed, but the preferred one did not appear")
                .isEqualTo(Long.MAX_VALUE);
        policy.onNetworks(21_000 * MS, List.of(CELL), CELL.address());
        assertThat(policy.onNetworks(22_000 * MS, List.of(WIFI, CELL), WIFI.address())).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void anAddressNeverReportedIsNeverLost() {
        InetAddress loopbackAlias = network("lo", "127.0.0.2").address();
        NetworkChangePolicy policy = new NetworkChangePolicy(PolicyConfig.defaults(), loopbackAlias, false);

        assertThat(policy.onNetworks(0, List.of(WIFI), WIFI.address())).isEmpty();
        assertThat(policy.onNetworks(10 * MS, List.of(), null)).isEmpty();
        assertThat(policy.onTimer(5_000 * MS)).isEmpty();
    }

    @Test
    void interfacePatternsFilterAndRank() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, d.returnFirstRetry(), d.returnMaxRetry(), 5,
                d.maxTimeAway(), d.retryAfterFailure(), List.of("rmnet*", "wlan*"));
        NetworkChangePolicy policy = new NetworkChangePolicy(config, WIFI.address(), false);

        assertThat(policy.onNetworks(0, List.of(ETH, WIFI, CELL), WIFI.address())).as("cellular first by pattern")
                .containsExactly(new Migrate(CELL.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                        MigrationCause.PREFERRED_NETWORK_BACK));
        policy.onMigrationFinished(10 * MS, CELL.address(), true);
        assertThat(policy.onNetworks(20 * MS, List.of(ETH, WIFI), WIFI.address())).as("eth0 matches no pattern")
                .containsExactly(new Migrate(WIFI.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.NETWORK_LOST));
    }

    @Test
    void withoutPatternsTheKernelsChoiceIsPreferred() {
        NetworkChangePolicy policy = new NetworkChangePolicy(PolicyConfig.defaults(), CELL.address(), false);

        assertThat(policy.onNetworks(0, List.of(CELL, WIFI), WIFI.address())).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void disabledPolicyNeverMoves() {
        NetworkChangePolicy policy = onWifi(PolicyConfig.disabled());

        assertThat(policy.onNetworks(10 * MS, List.of(CELL), CELL.address())).isEmpty();
        assertThat(policy.onPathFailed(20 * MS, WIFI.address())).isEmpty();
        assertThat(policy.onProbeTimeouts(30 * MS, 9)).isEmpty();
        assertThat(policy.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aReturnThatMustWaitForAMigrationAsksForNoTimerMeanwhileAndStartsWhenItEnds() {
        NetworkChangePolicy policy = new NetworkChangePolicy(PolicyConfig.defaults(), CELL.address(), false);
        policy.onNetworks(0, List.of(CELL), CELL.address());
        policy.onMigrationStarted(10 * MS, MigrationCause.APPLICATION);

        assertThat(policy.onNetworks(20 * MS, List.of(WIFI, CELL), WIFI.address())).as("a migration runs").isEmpty();
        assertThat(policy.nextTimerNanos()).as("a timer due at once would find nothing to do, and be due again")
                .isGreaterThan(20 * MS);

        assertThat(policy.onMigrationFinished(50 * MS, CELL.address(), false)).containsExactly(
                new Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
    }

    @Test
    void aPolicyThatNeverReturnsAsksForNoTimerWhenThePreferredNetworkComesBack() {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig noReturns = new PolicyConfig(true, true, true, 4, false, d.returnFirstRetry(), d.returnMaxRetry(),
                5, d.maxTimeAway(), d.retryAfterFailure(), List.of());
        for (PolicyConfig config : List.of(noReturns, PolicyConfig.disabled())) {
            NetworkChangePolicy policy = new NetworkChangePolicy(config, CELL.address(), false);
            policy.onNetworks(0, List.of(CELL), CELL.address());

            assertThat(policy.onNetworks(10 * MS, List.of(WIFI, CELL), WIFI.address())).isEmpty();
            assertThat(policy.nextTimerNanos()).as("the timer of %s", config).isEqualTo(Long.MAX_VALUE);
        }
    }

    @Test
    void globPatterns() {
        assertThat(PolicyConfig.globMatches("wlan*", "wlan0")).isTrue();
        assertThat(PolicyConfig.globMatches("*0", "wlan0")).isTrue();
        assertThat(PolicyConfig.globMatches("w*n0", "wlan0")).isTrue();
        assertThat(PolicyConfig.globMatches("wlan", "wlan0")).isFalse();
        assertThat(PolicyConfig.globMatches("eth.*", "eth0")).as("dots are literal").isFalse();
    }
}
