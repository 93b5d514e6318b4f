package org.quicmigration.core.pair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.core.pair.MigrationPair.MS;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;
import org.quicmigration.core.migration.ServerAction;

/**
 * Whole migrations between the client's and the server's cores over a simulated network (latency, loss, a NAT that
 * rebinds, a network that dies), in virtual time: both sides must end on the same path.
 */
class MigrationPairTest {

    private static final InetSocketAddress WIFI = MigrationPair.at("198.18.0.2", 5000);
    private static final InetSocketAddress CELLULAR = MigrationPair.at("198.18.1.2", 6000);
    /** The server's preferred address (RFC 9000 9.6). */
    private static final InetSocketAddress PREFERRED = MigrationPair.at("198.18.100.2", 443);

    @Test
    void aSwitchFirstMigrationEndsWithBothSidesOnTheNewPath() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 1);
        pair.runUntil(100 * MS, 5 * MS);

        pair.migrate(CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE);
        pair.runUntil(1_000 * MS, 5 * MS);

        assertThat(pair.outcomes).singleElement().satisfies(outcome -> {
            assertThat(outcome.validated()).isTrue();
            // One round trip of 20 ms for the client's validation.
            assertThat(outcome.validationRttNanos()).isEqualTo(20 * MS);
        });
        assertBothOn(pair, CELLULAR);
        assertThat(pair.serverActions).anyMatch(a -> a instanceof ServerAction.Migrated migrated
                && migrated.to().equals(serverTuple(pair, CELLULAR)));
        // RFC 9000 9.5: the client changed its ID, so the server follows with a fresh one of the client's and retires
        // the one it used on Wi-Fi once the old path's validation (9.3.3) is over.
        assertThat(pair.serverActions).contains(new ServerAction.UseNextClientId(serverTuple(pair, CELLULAR)));
        assertThat(pair.retiredClientIds).containsExactly(0);
    }

    @Test
    void aValidateFirstMigrationMovesBothSidesOnlyOnceTheNewPathAnswered() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 2);
        pair.runUntil(100 * MS, 5 * MS);

        pair.migrate(CELLULAR, MigrationMode.VALIDATE_THEN_SWITCH);
        pair.runUntil(110 * MS, 5 * MS);
        assertThat(pair.client.activeTuple().local()).as("before the response").isEqualTo(WIFI);
        assertThat(pair.serverSendsTo).isEqualTo(serverTuple(pair, WIFI));

        pair.runUntil(1_000 * MS, 5 * MS);
        assertThat(pair.outcomes).singleElement().extracting(MigrationOutcome::validated).isEqualTo(true);
        assertBothOn(pair, CELLULAR);
        // The server validated the probed path when the client's challenge arrived (RFC 9000 8.2), so it follows
        // at once, with nothing to validate after the move.
        assertThat(pair.serverActions).anyMatch(a -> a instanceof ServerAction.Migrated);
    }

    @Test
    void aNatRebindingIsFollowedByTheServerAfterValidation() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 3);
        pair.runUntil(100 * MS, 5 * MS);
        Tuple before = pair.serverSendsTo;

        pair.rebind(WIFI);
        pair.runUntil(1_000 * MS, 5 * MS);

        assertThat(pair.serverSendsTo).isNotEqualTo(before).isEqualTo(serverTuple(pair, WIFI));
        assertThat(pair.serverActions).anyMatch(a -> a instanceof ServerAction.ValidationSucceeded validated
                && validated.tuple().equals(serverTuple(pair, WIFI)));
        assertThat(pair.client.activeTuple().local()).as("the client never knew").isEqualTo(WIFI);
        // RFC 9000 9.5: the client kept its ID, so the server may keep the client's, and does; congestion control goes
        // back to what it was before the rebinding (9.4: only the port changed).
        assertThat(pair.serverActions).noneMatch(ServerAction.UseNextClientId.class::isInstance)
                .contains(new ServerAction.SnapshotCongestion(), new ServerAction.RestoreCongestion());
        assertThat(pair.retiredClientIds).isEmpty();
    }

    /**
     * RFC 9000 9.6.2: "The server MUST send non-probing packets from its original address until it receives a
     * non-probing packet from the client at its preferred address and until the server has validated the new path."
     */
    @Test
    void aMoveToTheServersPreferredAddressIsFollowedOnceThatPathIsValidated() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 8);
        pair.runUntil(100 * MS, 5 * MS);
        InetSocketAddress newLocal = MigrationPair.at("198.18.0.2", 5001);

        // Switching first, the client's first non-probing packet reaches the preferred address before any validation.
        pair.migrate(newLocal, PREFERRED, MigrationMode.SWITCH_THEN_VALIDATE);
        pair.runUntil(1_000 * MS, 5 * MS);

        assertThat(pair.outcomes).singleElement().extracting(MigrationOutcome::validated).isEqualTo(true);
        Tuple preferredPath = new Tuple(PREFERRED, pair.outside(newLocal));
        assertThat(pair.client.activeTuple()).isEqualTo(new Tuple(newLocal, PREFERRED));
        assertThat(pair.serverSendsTo).isEqualTo(preferredPath);
        int validated = pair.serverActions.indexOf(new ServerAction.ValidationSucceeded(preferredPath, 20 * MS));
        int moved = pair.serverActions.indexOf(new ServerAction.MigrationStarted(preferredPath));
        assertThat(validated).as("validated").isNotNegative();
        assertThat(moved).as("moved, after the validation").isGreaterThan(validated);
        assertThat(pair.serverActions).contains(new ServerAction.Migrated(serverTuple(pair, WIFI), preferredPath));
    }

    @Test
    void aSwitchToANetworkThatIsDeadFallsBackAndTheServerNeverLeaves() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 4);
        pair.runUntil(100 * MS, 5 * MS);
        pair.killClientAddress(CELLULAR.getAddress());

        pair.migrate(CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE);
        pair.runUntil(10_000 * MS, 5 * MS);

        assertThat(pair.outcomes).singleElement().satisfies(outcome -> {
            assertThat(outcome.validated()).isFalse();
            assertThat(outcome.fellBack()).isTrue();
        });
        assertBothOn(pair, WIFI);
    }

    @Test
    void aMigrationThroughFivePercentLossEndsWithBothSidesOnTheNewPath() throws Exception {
        for (long seed = 10; seed < 60; seed++) {
            MigrationPair pair = new MigrationPair(WIFI, seed);
            pair.lossRate = 0.05;
            pair.runUntil(100 * MS, 5 * MS);

            pair.migrate(CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE);
            pair.runUntil(10_000 * MS, 5 * MS);

            long seedUsed = seed;
            assertThat(pair.outcomes).as("seed %d", seedUsed).singleElement()
                    .extracting(MigrationOutcome::validated).isEqualTo(true);
            assertBothOn(pair, CELLULAR);
        }
    }

    @Test
    void twoMigrationsInARowThroughReorderingEndWithBothSidesOnTheLastPath() throws Exception {
        InetSocketAddress wifiAgain = MigrationPair.at("198.18.0.2", 5001);
        for (long seed = 100; seed < 130; seed++) {
            MigrationPair pair = new MigrationPair(WIFI, seed);
            pair.jitterNanos = 15 * MS; // more than the 5 ms between datagrams: they arrive out of order
            pair.runUntil(100 * MS, 5 * MS);

            pair.migrate(CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE);
            pair.runUntil(2_000 * MS, 5 * MS);
            pair.migrate(wifiAgain, MigrationMode.VALIDATE_THEN_SWITCH);
            pair.runUntil(4_000 * MS, 5 * MS);

            assertThat(pair.outcomes).as("seed %d", seed).hasSize(2).allMatch(MigrationOutcome::validated);
            assertBothOn(pair, wifiAgain);
        }
    }

    @Test
    void aNatRebindingOfTheNewPathDuringItsValidationEndsWithBothSidesOnTheRebinding() throws Exception {
        MigrationPair pair = new MigrationPair(WIFI, 7);
        pair.runUntil(100 * MS, 5 * MS);

        pair.migrate(CELLULAR, MigrationMode.SWITCH_THEN_VALIDATE);
        pair.runUntil(105 * MS, 5 * MS);
        pair.rebind(CELLULAR); // the cellular NAT rebinds while the server validates the first binding
        pair.runUntil(3_000 * MS, 5 * MS);

        assertThat(pair.outcomes).singleElement().extracting(MigrationOutcome::validated).isEqualTo(true);
        assertBothOn(pair, CELLULAR);
    }

    private static void assertBothOn(MigrationPair pair, InetSocketAddress clientLocal) {
        assertThat(pair.client.activeTuple().local()).as("the client's path").isEqualTo(clientLocal);
        assertThat(pair.serverSendsTo).as("the server's path").isEqualTo(serverTuple(pair, clientLocal));
        assertThat(pair.server.routing().active()).isEqualTo(serverTuple(pair, clientLocal));
    }

    private static Tuple serverTuple(MigrationPair pair, InetSocketAddress clientLocal) {
        return new Tuple(MigrationPair.SERVER, pair.outside(clientLocal));
    }
}
