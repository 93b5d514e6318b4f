package org.quicmigration.core.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.Tuple;

/**
 * The server's memory of client addresses it validated (RFC 9000 9.3: "An endpoint MAY skip validation of a peer
 * address if that address has been seen recently"), in virtual time: how long it lasts, what it allows, and that a
 * flood of new addresses cannot wipe it.
 */
class ServerPathMemoryTest {

    private static final long MS = 1_000_000L;
    private static final long MINUTE = 60_000 * MS;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final Tuple WIFI = new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5000));
    private static final Tuple CELLULAR = new Tuple(SERVER, new InetSocketAddress("127.0.0.3", 6000));
    private static final Duration PTO = Duration.ofMillis(50);

    private final ServerPathManager paths = new ServerPathManager(WIFI, 3, 4, Duration.ofMillis(25), null,
            Duration.ofMinutes(10), new SplittableRandom(3));

    @Test
    void aClientBackOnAnAddressValidatedRecentlyIsFollowedWithoutValidationOrLimit() {
        moveToCellularAndValidate(0);
        paths.onDatagram(2 * MS, WIFI, 1200, true, true, false, PTO); // back on Wi-Fi: validated at the handshake
        paths.onTimer(20_000 * MS); // the re-validation of cellular (9.3.3) goes unanswered: the client left it
        paths.onDatagram(9 * MINUTE, WIFI, 1200, true, true, false, PTO); // Wi-Fi was in use till now

        List<ServerPathAction> back = paths.onDatagram(9 * MINUTE + 1, CELLULAR, 100, true, true, false, PTO);

        // Cellular was last heard from 9 minutes ago: remembered.
        assertThat(back).contains(new ServerPathAction.SendOn(CELLULAR, true))
                .anyMatch(ServerPathAction.Migrated.class::isInstance);
        assertThat(challengedTuples(back)).as("only the path left is validated again (RFC 9000 9.3.3)")
                .containsExactly(WIFI);
        assertThat(paths.remainingBudget(CELLULAR)).as("no three-times limit").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void anAddressNotHeardFromForLongerThanTheMemoryIsValidatedAgainWithinItsBudget() {
        moveToCellularAndValidate(0);
        paths.onDatagram(2 * MS, WIFI, 1200, true, true, false, PTO);
        paths.onTimer(20_000 * MS);
        paths.onDatagram(11 * MINUTE, WIFI, 1200, true, true, false, PTO);

        List<ServerPathAction> back = paths.onDatagram(11 * MINUTE + 1, CELLULAR, 100, true, true, false, PTO);

        assertThat(challengedTuples(back)).as("a new address again: validated (RFC 9000 9.3)").contains(CELLULAR);
        assertThat(back).noneMatch(ServerPathAction.Migrated.class::isInstance);
        assertThat(paths.remainingBudget(CELLULAR)).as("three times the 100 bytes received, less the challenge")
                .isLessThanOrEqualTo(300);
    }

    @Test
    void aFloodOfNewAddressesForgetsThemBeforeAValidatedOne() {
        moveToCellularAndValidate(0);
        paths.onDatagram(2 * MS, WIFI, 1200, true, true, false, PTO);
        paths.onTimer(20_000 * MS);
        // An attacker replays probing packets from 100 addresses: each is tracked, then forgotten for the next.
        for (int i = 0; i < 100; i++) {
            Tuple spoofed = new Tuple(SERVER, new InetSocketAddress("127.0.0.66", 10_000 + i));
            paths.onDatagram(20_001 * MS + i, spoofed, 1200, false, false, false, PTO);
        }

        assertThat(paths.trackedPaths()).as("bounded").isLessThanOrEqualTo(4);
        assertThat(paths.isValidated(CELLULAR)).as("the validated address is still remembered").isTrue();
    }

    @Test
    void aReplayedPacketFromARememberedAddressIsFollowedButThePathInUseIsChallengedAndTheClientsNextPacketWins() {
        moveToCellularAndValidate(0);
        paths.onDatagram(2 * MS, WIFI, 1200, true, true, false, PTO);
        paths.onTimer(20_000 * MS);

        // An attacker replays a packet of the client with cellular's address as its source (RFC 9000 9.3.3).
        List<ServerPathAction> replayed = paths.onDatagram(30_000 * MS, CELLULAR, 1200, true, true, false, PTO);

        assertThat(replayed).contains(new ServerPathAction.SendOn(CELLULAR, true));
        // RFC 9000 9.3.3: "In response to an apparent migration, endpoints MUST validate the previously active path".
        assertThat(challengedTuples(replayed)).containsExactly(WIFI);
        List<ServerPathAction> back = paths.onDatagram(30_010 * MS, WIFI, 1200, true, true, false, PTO);
        assertThat(back).contains(new ServerPathAction.SendOn(WIFI, true));
        assertThat(paths.activeTuple()).isEqualTo(WIFI);
    }

    @Test
    void anAddressNeverValidatedForThisConnectionIsNotRemembered() {
        // Validated for another connection, or by nobody: to this connection it is new, budget and all (9.3.1).
        Tuple stranger = new Tuple(SERVER, new InetSocketAddress("127.0.0.9", 9000));

        List<ServerPathAction> moved = paths.onDatagram(0, stranger, 100, true, true, false, PTO);

        assertThat(challengedTuples(moved)).contains(stranger);
        assertThat(paths.isValidated(stranger)).isFalse();
        assertThat(paths.remainingBudget(stranger)).isLessThanOrEqualTo(300);
    }

    /** The client moves to cellular at {@code start} and answers the server's challenge 20 ms later. */
    private void moveToCellularAndValidate(long start) {
        List<ServerPathAction> moved = paths.onDatagram(start, CELLULAR, 1200, true, true, false, PTO);
        byte[] challenge = ((ServerPathAction.SendPathChallenge) moved.stream()
                .filter(a -> a instanceof ServerPathAction.SendPathChallenge c && c.tuple().equals(CELLULAR))
                .findFirst().orElseThrow()).data();
        paths.onPathResponse(start + 1 * MS, challenge);
        assertThat(paths.isValidated(CELLULAR)).isTrue();
        // The old path's 9.3.3 validation is left to time out: the client answers it or not; it stays validated.
        paths.onTimer(start + 10_000 * MS);
    }

    private static List<Tuple> challengedTuples(List<ServerPathAction> actions) {
        return actions.stream().filter(ServerPathAction.SendPathChallenge.class::isInstance)
                .map(a -> ((ServerPathAction.SendPathChallenge) a).tuple()).toList();
    }
}
