package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/**
 * Standby paths end to end, on loopback: a second path the client keeps validated (and the server, which validates a
 * path it sees probed, remembers), so that the move to it is complete at once on both sides.
 */
class StandbyPathTest {

    private static final InetAddress THIRD = ClientMigrationTest.address("127.0.0.4");

    @Test
    void theMoveToAReadyStandbyIsCompleteAtOnceAndTheServerFollowsWithoutValidatingIt() throws Exception {
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(true).onConnection(accepted)
                .migrationListener(serverEvents::add).start();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .migrationPolicy(MigrationPolicy.disabled()).build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            awaitSpare(connection);

            StandbyPath standby = connection.addStandbyPath(new InetSocketAddress(CELLULAR, 0));

            assertThat(standby.localAddress().getAddress()).isEqualTo(CELLULAR);
            assertThat(standby.localAddress().getPort()).isPositive();
            assertThat(standby.awaitReady(Duration.ofSeconds(5))).as("the standby answers its probe: " + standby).isTrue();
            assertThat(standby.roundTrip()).isPresent();
            assertThat(connection.localAddress().getAddress()).as("data stays on the active path").isEqualTo(WIFI);
            assertThat(connection.spareConnectionIds()).as("the standby holds the spare ID").isZero();
            Await.until(() -> serverEvents.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidated
                    && e.path().remote().equals(standby.localAddress())), 5_000, "the server validates the probed path");

            byte[] data = Echo.randomBytes(8 * 1024 * 1024, 41);
            CompletableFuture<MigrationResult> migration = new CompletableFuture<>();
            AtomicBoolean started = new AtomicBoolean();
            byte[] digest = Echo.exchange(connection, data, received -> {
                if (received > data.length / 4 && started.compareAndSet(false, true)) {
                    connection.migrate(new InetSocketAddress(CELLULAR, 0)).whenComplete((result, error) -> {
                        if (error != null) {
                            migration.completeExceptionally(error);
                        } else {
                            migration.complete(result);
                        }
                    });
                }
            });

            assertThat(digest).as("SHA-256 of 8 MB echoed across the move to the standby").isEqualTo(Echo.sha256(data));
            MigrationResult result = migration.get(10, TimeUnit.SECONDS);
            assertThat(result.newPath().local()).isEqualTo(standby.localAddress());
            assertThat(standby.state()).isEqualTo(StandbyPath.State.IN_USE);
            // On the client: complete at once, no challenge after the move started.
            List<MigrationEvent> move = events.subList(indexOf(events, MigrationEvent.MigrationStarted.class),
                    indexOf(events, MigrationEvent.MigrationCompleted.class) + 1);
            assertThat(move).as("the client's events of the move").noneMatch(MigrationEvent.PathValidationStarted.class::isInstance);
            // On the server: it followed to an address it had validated, so it did not challenge that address again
            // (RFC 9000 9.3: "An endpoint MAY skip validation of a peer address if that address has been seen
            // recently"); it still re-validates the path the client left (9.3.3).
            int moved = indexOf(serverEvents, e -> e instanceof MigrationEvent.MigrationStarted
                    && e.path().remote().equals(standby.localAddress()));
            assertThat(moved).as("the server follows the client to the standby").isNotNegative();
            assertThat(serverEvents.subList(moved, serverEvents.size()))
                    .as("the server's events after the move")
                    .noneMatch(e -> e instanceof MigrationEvent.PathValidationStarted
                            && e.path().remote().equals(standby.localAddress()))
                    .anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted
                            && e.path().remote().equals(standby.localAddress()));
        }
    }

    @Test
    void aStandbyIsProbedAgainAtItsIntervalAndGivesItsIdBackWhenRemoved() throws Exception {
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .migrationPolicy(MigrationPolicy.disabled()).build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            awaitSpare(connection);
            StandbyPath standby = connection.addStandbyPath(new InetSocketAddress(CELLULAR, 0), Duration.ofMillis(200));
            assertThat(standby.awaitReady(Duration.ofSeconds(5))).isTrue();

            Await.until(() -> events.stream().filter(e -> e instanceof MigrationEvent.PathValidationStarted
                    && e.path().local().equals(standby.localAddress())).count() >= 4, 5_000, "four probes of the standby");
            assertThat(standby.state()).isEqualTo(StandbyPath.State.READY);
            assertThat(events).as("a probe answered changes nothing to report")
                    .filteredOn(MigrationEvent.StandbyPathChanged.class::isInstance).hasSize(2);

            standby.remove();

            Await.until(() -> standby.state() == StandbyPath.State.REMOVED, 5_000, "the standby is removed");
            // The server answers RETIRE_CONNECTION_ID with a new ID, and a migration can take it.
            awaitSpare(connection);
            MigrationResult result = connection.migrate(new InetSocketAddress(THIRD, 0)).get(10, TimeUnit.SECONDS);
            assertThat(result.newPath().local().getAddress()).isEqualTo(THIRD);
            assertThat(Echo.exchange(connection, Echo.randomBytes(100_000, 3))).isEqualTo(
                    Echo.sha256(Echo.randomBytes(100_000, 3)));
        }
    }

    @Test
    void whileAStandbyHoldsTheSpareIdAMoveElsewhereAndASecondStandbyAreRefusedWithTheirReason() throws Exception {
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .migrationPolicy(MigrationPolicy.disabled()).build().connect()) {
            awaitSpare(connection);
            connection.addStandbyPath(new InetSocketAddress(CELLULAR, 0));

            assertThatThrownBy(() -> connection.migrate(new InetSocketAddress(THIRD, 0)).get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(MigrationException.class)
                    .hasMessageContaining("standby")
                    .extracting(e -> ((MigrationException) e).reason())
                    .isEqualTo(MigrationException.Reason.NO_SPARE_CONNECTION_ID);
            assertThatThrownBy(() -> connection.addStandbyPath(new InetSocketAddress(THIRD, 0)))
                    .isInstanceOf(MigrationException.class)
                    .extracting(e -> ((MigrationException) e).reason())
                    .isEqualTo(MigrationException.Reason.STANDBY_EXISTS);
            assertThat(connection.localAddress().getAddress()).isEqualTo(WIFI);
        }
    }

    @Test
    void thePolicysStandbyFollowsTheNetworksAndAnApplicationsMoveElsewhereGivesItUp() throws Exception {
        ManualNetworkMonitor networks = NetworkMonitor.manual();
        networks.update(List.of(new Network("wlan0", WIFI), new Network("rmnet0", CELLULAR)), WIFI);
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .networkMonitor(networks)
                     .migrationPolicy(MigrationPolicy.builder().preferInterfaces("wlan*", "rmnet*")
                             .keepStandby(Duration.ofMillis(300)).build()).build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);

            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.StandbyPathChanged changed
                    && changed.state() == StandbyPath.State.READY && changed.path().local().getAddress().equals(CELLULAR)),
                    10_000, "the policy keeps a ready standby on cellular; events " + events);
            assertThat(connection.spareConnectionIds()).as("the standby holds the spare ID").isZero();

            // The application moves to a third address: the policy's standby is given up for it.
            MigrationResult result = connection.migrate(new InetSocketAddress(THIRD, 0)).get(10, TimeUnit.SECONDS);

            assertThat(result.newPath().local().getAddress()).isEqualTo(THIRD);
            assertThat(events).anyMatch(e -> e instanceof MigrationEvent.StandbyPathChanged changed
                    && changed.state() == StandbyPath.State.REMOVED && changed.path().local().getAddress().equals(CELLULAR));
            byte[] data = Echo.randomBytes(200_000, 5);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
        }
    }

    private static int indexOf(List<MigrationEvent> events, Class<? extends MigrationEvent> type) {
        return indexOf(events, type::isInstance);
    }

    private static int indexOf(List<MigrationEvent> events, java.util.function.Predicate<MigrationEvent> match) {
        for (int i = 0; i < events.size(); i++) {
            if (match.test(events.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
