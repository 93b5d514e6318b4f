package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/**
 * {@link MigrationStrategy#VALIDATE_THEN_SWITCH} end to end, on loopback: the client probes the new path (RFC 9000
 * 9.1) while data keeps flowing on the old one, and moves once the new path answered.
 */
class ValidateFirstMigrationTest {

    /** RFC 9000 9.1: a packet with only these frames is a probing packet; the server does not move for it. */
    private static final Set<String> PROBING_FRAMES = Set.of("path_challenge", "path_response", "new_connection_id",
            "padding");

    @Test
    void theNewPathIsProbedWhileDataFlowsOnTheOldOneThenUsed() throws Exception {
        List<PacketEvent> packets = new CopyOnWriteArrayList<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = ClientMigrationTest.startServer(accepted);
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .packetListener(packets::add).build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            awaitSpare(connection);
            String oldId = connection.destinationConnectionId();
            byte[] data = Echo.randomBytes(8 * 1024 * 1024, 31);
            CompletableFuture<MigrationResult> migration = new CompletableFuture<>();
            AtomicBoolean started = new AtomicBoolean();

            byte[] digest = Echo.exchange(connection, data, received -> {
                if (received > data.length / 4 && started.compareAndSet(false, true)) {
                    connection.migrate(new InetSocketAddress(CELLULAR, 0), MigrationStrategy.VALIDATE_THEN_SWITCH)
                            .whenComplete((result, error) -> {
                                if (error != null) {
                                    migration.completeExceptionally(error);
                                } else {
                                    migration.complete(result);
                                }
                            });
                }
            });

            assertThat(digest).as("SHA-256 of 8 MB echoed across a validate-first migration")
                    .isEqualTo(Echo.sha256(data));
            MigrationResult result = migration.get(10, TimeUnit.SECONDS);
            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            assertThat(result.newDestinationId()).as("RFC 9000 9.5: a new path uses a new connection ID")
                    .isNotEqualTo(oldId);
            assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);

            // On the wire, as the client's packet trace saw it: the new path's first packet is a challenge of at
            // least 1200 bytes (8.2.1) with the new ID, and nothing non-probing leaves there before the answer.
            List<PacketEvent> fromCellular = packets.stream()
                    .filter(p -> p.direction() == PacketEvent.Direction.SENT)
                    .filter(p -> p.path().local().getAddress().equals(CELLULAR)).toList();
            assertThat(fromCellular).as("packets sent from the new address").isNotEmpty();
            PacketEvent probe = fromCellular.get(0);
            assertThat(probe.frameTypes()).as("the probe's frames").contains("path_challenge")
                    .allMatch(PROBING_FRAMES::contains);
            assertThat(probe.size()).as("size of the probe").isGreaterThanOrEqualTo(1200);
            assertThat(probe.destinationConnectionId()).isEqualTo(result.newDestinationId());
            String challenge = probe.frame("path_challenge").orElseThrow().field("data");
            int answer = indexOf(packets, p -> p.direction() == PacketEvent.Direction.RECEIVED
                    && p.frame("path_response").map(f -> f.field("data").equals(challenge)).orElse(false));
            assertThat(answer).as("the PATH_RESPONSE to the probe").isNotNegative();
            int firstNonProbing = indexOf(packets, p -> p.direction() == PacketEvent.Direction.SENT
                    && p.path().local().getAddress().equals(CELLULAR)
                    && !PROBING_FRAMES.containsAll(p.frameTypes()));
            assertThat(firstNonProbing).as("the first non-probing packet from the new address comes after the answer")
                    .isGreaterThan(answer);
            // (That data keeps flowing on the old path while a probe is out is shown by the next test, where the probe
            // is never answered: on loopback the answer here may come before the next packet leaves.)
            assertThat(fromCellular).allSatisfy(p -> assertThat(p.destinationConnectionId())
                    .as("DCID on the new path").isEqualTo(result.newDestinationId()));

            // The server answered on the new path and validated it too, each time with a connection ID of ours it
            // never sent to the old address (RFC 9000 9.5), so our move there needs no three-times limit.
            Set<String> idsToWifi = packets.stream().filter(p -> p.direction() == PacketEvent.Direction.RECEIVED
                    && p.path().local().getAddress().equals(WIFI)).map(PacketEvent::destinationConnectionId)
                    .collect(java.util.stream.Collectors.toSet());
            List<PacketEvent> toCellular = packets.stream().filter(p -> p.direction() == PacketEvent.Direction.RECEIVED
                    && p.path().local().getAddress().equals(CELLULAR)).toList();
            assertThat(toCellular).as("the server's path frames on the new path")
                    .anyMatch(p -> p.frameTypes().contains("path_response"))
                    .anyMatch(p -> p.frameTypes().contains("path_challenge"));
            assertThat(toCellular).allSatisfy(p -> assertThat(idsToWifi).as("IDs the server used towards Wi-Fi")
                    .doesNotContain(p.destinationConnectionId()));
            // And we answered its challenge on the path it came on, with that path's ID (8.2.2, 9.5).
            String serverChallenge = toCellular.stream().filter(p -> p.frameTypes().contains("path_challenge"))
                    .findFirst().orElseThrow().frame("path_challenge").orElseThrow().field("data");
            assertThat(packets).filteredOn(p -> p.direction() == PacketEvent.Direction.SENT
                            && p.frame("path_response").map(f -> f.field("data").equals(serverChallenge)).orElse(false))
                    .as("our PATH_RESPONSE to the server's challenge").singleElement()
                    .satisfies(p -> {
                        assertThat(p.path().local().getAddress()).isEqualTo(CELLULAR);
                        assertThat(p.destinationConnectionId()).isEqualTo(result.newDestinationId());
                    });

            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted), 2_000,
                    "a MigrationCompleted event");
            assertThat(events).extracting(e -> e.getClass().getSimpleName()).containsSubsequence(
                    "PathValidationStarted", "PathValidated", "MigrationStarted", "PeerConnectionIdChanged",
                    "MigrationCompleted");
            assertThat(accepted.first().pathHistory()).as("the server followed")
                    .extracting(path -> path.remote().getAddress()).containsSubsequence(WIFI, CELLULAR);
        }
    }

    @Test
    void aNewPathThatNeverAnswersIsAbandonedWithoutEverLeavingTheOldOne() throws Exception {
        List<PacketEvent> packets = new CopyOnWriteArrayList<>();
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .packetListener(packets::add).build().connect()) {
            awaitSpare(connection);
            server.dropDatagramsFrom(address -> address.getAddress().equals(CELLULAR));
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);

            CompletableFuture<MigrationResult> migration =
                    connection.migrate(new InetSocketAddress(CELLULAR, 0), MigrationStrategy.VALIDATE_THEN_SWITCH);
            // The old path carries data while the probe goes unanswered.
            byte[] during = Echo.randomBytes(500_000, 32);
            assertThat(Echo.exchange(connection, during)).isEqualTo(Echo.sha256(during));
            assertThat(connection.localAddress().getAddress()).as("still on Wi-Fi while probing").isEqualTo(WIFI);

            ExecutionException failure = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> migration.get(10, TimeUnit.SECONDS), ExecutionException.class);
            assertThat(failure.getCause()).isInstanceOf(MigrationException.class);
            MigrationException cause = (MigrationException) failure.getCause();
            assertThat(cause.reason()).isEqualTo(MigrationException.Reason.VALIDATION_TIMED_OUT);
            assertThat(cause.fallbackPath()).as("it never left, so it fell back nowhere").isEmpty();
            assertThat(cause.getMessage()).contains("stayed on");
            assertThat(connection.localAddress().getAddress()).isEqualTo(WIFI);
            assertThat(packets).filteredOn(p -> p.direction() == PacketEvent.Direction.SENT
                            && p.path().local().getAddress().equals(CELLULAR))
                    .as("only probes left from the new address").isNotEmpty()
                    .allSatisfy(p -> assertThat(p.frameTypes()).allMatch(PROBING_FRAMES::contains));
            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidationFailed), 2_000,
                    "a PathValidationFailed event");
            assertThat(events).noneMatch(e -> e instanceof MigrationEvent.MigrationStarted);

            // The unanswered path's ID was retired; the server replaces it and the next move works.
            server.dropDatagramsFrom(address -> false);
            awaitSpare(connection);
            MigrationResult result = connection.migrate(new InetSocketAddress(CELLULAR, 0),
                    MigrationStrategy.VALIDATE_THEN_SWITCH).get(10, TimeUnit.SECONDS);
            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            byte[] after = Echo.randomBytes(300_000, 33);
            assertThat(Echo.exchange(connection, after)).isEqualTo(Echo.sha256(after));
        }
    }

    @Test
    void unansweredProbesAreNotTakenForCongestion() throws Exception {
        // RFC 9000 9.4: "The sender can make exceptions for probe packets so that their loss detection is independent
        // and does not unduly cause the congestion controller to reduce its sending rate." The connection stays idle,
        // so no data packet can be lost (spuriously, on a loaded machine with a 1 ms RTT) and shrink the window.
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            server.dropDatagramsFrom(address -> address.getAddress().equals(CELLULAR));
            long windowBefore = connection.diagnostics().congestionWindowAndBytesInFlight()[0];

            ExecutionException failure = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> connection.migrate(new InetSocketAddress(CELLULAR, 0), MigrationStrategy.VALIDATE_THEN_SWITCH)
                            .get(10, TimeUnit.SECONDS), ExecutionException.class);

            assertThat(failure.getCause()).isInstanceOf(MigrationException.class);
            Await.until(() -> connection.diagnostics().congestionWindowAndBytesInFlight()[1] == 0, 2_000,
                    "nothing in flight: " + connection.diagnostics().describeSendSide());
            assertThat(connection.diagnostics().congestionWindowAndBytesInFlight()[0]).as("congestion window")
                    .isGreaterThanOrEqualTo(windowBefore);
        }
    }

    private static int indexOf(List<PacketEvent> packets, java.util.function.Predicate<PacketEvent> test) {
        for (int i = 0; i < packets.size(); i++) {
            if (test.test(packets.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
