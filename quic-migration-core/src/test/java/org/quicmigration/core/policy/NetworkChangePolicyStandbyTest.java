package org.quicmigration.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.policy.PolicyAction.DropStandby;
import org.quicmigration.core.policy.PolicyAction.KeepStandby;
import org.quicmigration.core.policy.PolicyAction.Migrate;

/** The standby the network-change policy keeps on the network a move would go to, in virtual time. */
class NetworkChangePolicyStandbyTest {

    private static final long MS = 1_000_000L;
    private static final Duration INTERVAL = Duration.ofSeconds(20);
    private static final LocalNetwork WIFI = network("wlan0", "198.18.0.2");
    private static final LocalNetwork CELL = network("rmnet0", "198.18.1.2");
    private static final LocalNetwork ETH = network("eth0", "198.18.3.2");
    private static final PolicyConfig CONFIG = new PolicyConfig(true, true, true, 4, true, Duration.ofSeconds(1),
            Duration.ofSeconds(128), 5, Duration.ofMinutes(10), Duration.ofMillis(250),
            List.of("eth*", "wlan*", "rmnet*"), INTERVAL);

    private static LocalNetwork network(String name, String address) {
        try {
            return new LocalNetwork(name, InetAddress.getByName(address));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private final NetworkChangePolicy policy = new NetworkChangePolicy(CONFIG, WIFI.address(), false);

    @Test
    void aStandbyIsKeptOnTheNetworkAMoveWouldGoToAndTheMoveAfterALossGoesThere() {
        assertThat(policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address()))
                .containsExactly(new KeepStandby(CELL.address(), INTERVAL));
        assertThat(policy.onStandby(10 * MS, CELL.address())).as("kept: nothing more to do").isEmpty();

        List<PolicyAction> lost = policy.onPathFailed(20 * MS, WIFI.address());

        assertThat(lost).as("the move goes to the standby's network, and the standby is not dropped for it")
                .containsExactly(new Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE, MigrationCause.WRITE_ERROR));
    }

    @Test
    void noStandbyIsAskedForAgainWhileOneIsPendingOrKept() {
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());

        assertThat(policy.onTimer(5 * MS)).as("asked for, not reported yet").isEmpty();
        policy.onStandby(10 * MS, CELL.address());
        assertThat(policy.onNetworks(20 * MS, List.of(WIFI, CELL), WIFI.address())).isEmpty();
    }

    @Test
    void aRefusedStandbyIsAskedForAgainAfterAPause() {
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());

        assertThat(policy.onStandbyRefused(10 * MS)).isEmpty();
        long retry = 10 * MS + StandbySteering.RETRY_NANOS;
        assertThat(policy.nextTimerNanos()).isEqualTo(retry);
        assertThat(policy.onTimer(retry - 1)).isEmpty();
        assertThat(policy.onTimer(retry)).containsExactly(new KeepStandby(CELL.address(), INTERVAL));
    }

    @Test
    void theStandbyMovesToAMorePreferredNetworkThatAppears() {
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());
        policy.onStandby(10 * MS, CELL.address());
        // Ethernet appears and outranks Wi-Fi: the policy returns to it first; the standby follows afterwards.
        List<PolicyAction> plugged = policy.onNetworks(20 * MS, List.of(ETH, WIFI, CELL), WIFI.address());
        assertThat(plugged).containsExactly(new Migrate(ETH.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                MigrationCause.PREFERRED_NETWORK_BACK));

        List<PolicyAction> moved = policy.onMigrationFinished(60 * MS, ETH.address(), true);

        assertThat(moved).as("on Ethernet, a move would go to Wi-Fi").containsExactly(new DropStandby(CELL.address()));
        assertThat(policy.onStandby(61 * MS, null)).containsExactly(new KeepStandby(WIFI.address(), INTERVAL));
    }

    @Test
    void theStandbyTakenByAMoveIsReplacedOnceTheMoveEnds() {
        policy.onNetworks(0, List.of(WIFI, CELL), WIFI.address());
        policy.onStandby(10 * MS, CELL.address());
        policy.onPathFailed(20 * MS, WIFI.address());
        assertThat(policy.onStandby(21 * MS, null)).as("the move runs: no standby now").isEmpty();

        assertThat(policy.onMigrationFinished(22 * MS, CELL.address(), true)).as("Wi-Fi failed: no other network")
                .isEmpty();
        // Wi-Fi works again: before the return is due (1 s after the move), the standby goes there, so the return
        // itself needs no validation.
        assertThat(policy.onPathWorks(900 * MS, WIFI.address())).containsExactly(new KeepStandby(WIFI.address(), INTERVAL));
        policy.onStandby(905 * MS, WIFI.address());
        assertThat(policy.onTimer(policy.nextTimerNanos())).containsExactly(new Migrate(WIFI.address(),
                MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK));
        policy.onStandby(1_030 * MS, null); // the move took it
        assertThat(policy.onMigrationFinished(1_031 * MS, WIFI.address(), true))
                .containsExactly(new KeepStandby(CELL.address(), INTERVAL));
    }

    @Test
    void withoutTheOptionNoStandbyIsKept() {
        NetworkChangePolicy plain = new NetworkChangePolicy(PolicyConfig.defaults(), WIFI.address(), false);

        assertThat(plain.onNetworks(0, List.of(WIFI, CELL), WIFI.address())).isEmpty();
    }
}
