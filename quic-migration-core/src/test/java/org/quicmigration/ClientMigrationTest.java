package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Client migration end to end, on loopback: 127.0.0.2 is "Wi-Fi", 127.0.0.3 "cellular". */
class ClientMigrationTest {

    static final InetAddress WIFI = address("127.0.0.2");
    static final InetAddress CELLULAR = address("127.0.0.3");

    static MigrationServer startServer() throws Exception {
        return Echo.serverBuilder().acceptClientMigration(true).start();
    }

    /** {@link #startServer()} recording the connections it accepts in {@code accepted}. */
    static MigrationServer startServer(Echo.Accepted accepted) throws Exception {
        return Echo.serverBuilder().acceptClientMigration(true).onConnection(accepted).start();
    }

    @Test
    void migrationMovesTheConnectionToTheNewAddressWithAFreshConnectionId() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            WireRecorder wire = new WireRecorder();
            connection.diagnostics().wireTrace(wire);
            byte[] before = Echo.randomBytes(100_000, 1);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
            String oldId = connection.destinationConnectionId();
            awaitSpare(connection);
            assertThat(connection.peerConnectionIds()).as("the ID in use and a spare").hasSize(2).contains(oldId);

            MigrationResult result = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);

            assertThat(result.oldPath().local().getAddress()).isEqualTo(WIFI);
            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            assertThat(result.oldDestinationId()).isEqualTo(oldId);
            assertThat(result.newDestinationId()).as("RFC 9000 9.5: a new path uses a new connection ID")
                    .isNotEqualTo(oldId);
            assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);
            byte[] after = Echo.randomBytes(300_000, 2);
            assertThat(Echo.exchange(connection, after)).isEqualTo(Echo.sha256(after));

            // On the wire: the new path only ever carries the new ID; the old ID never leaves from the new address.
            List<WireRecorder.Datagram> fromCellular = wire.datagrams.stream()
                    .filter(d -> d.local().getAddress().equals(CELLULAR)).toList();
            assertThat(fromCellular).as("datagrams from the new address").isNotEmpty();
            assertThat(fromCellular).allSatisfy(d ->
                    assertThat(d.destination().toString()).as("DCID on the new path").isEqualTo(result.newDestinationId()));
            assertThat(wire.datagrams).filteredOn(d -> d.destination() != null
                            && d.destination().toString().equals(oldId))
                    .allSatisfy(d -> assertThat(d.local().getAddress()).isEqualTo(WIFI));
            // RFC 9000 8.2.1: datagrams with PATH_CHALLENGE are padded to at least 1200 bytes.
            List<WireRecorder.Packet> challenges = wire.packets.stream()
                    .filter(p -> p.frames().contains("PathChallengeFrame")).toList();
            assertThat(challenges).as("PATH_CHALLENGE packets").isNotEmpty();
            assertThat(challenges).allSatisfy(p -> {
                assertThat(p.size()).as("size of a packet with PATH_CHALLENGE").isGreaterThanOrEqualTo(1200);
                assertThat(p.destination().toString()).isEqualTo(result.newDestinationId());
            });
            // RFC 9000 5.1.2: the old path's ID is retired.
            Await.until(() -> wire.retired.contains(0L), 2_000, "RETIRE_CONNECTION_ID for sequence 0 is sent");

            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted), 2_000,
                    "a MigrationCompleted event");
            assertThat(events).extracting(e -> e.getClass().getSimpleName()).containsSubsequence(
                    "MigrationStarted", "PeerConnectionIdChanged", "PathValidationStarted", "PathValidated",
                    "MigrationCompleted");
        }
    }

    @Test
    void twentyMegabytesEachWaySurviveAMigrationInTheMiddle() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            byte[] data = Echo.randomBytes(20 * 1024 * 1024, 20);
            java.util.concurrent.CompletableFuture<MigrationResult> migration = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

            byte[] digest = Echo.exchange(connection, data, received -> {
                if (received > data.length / 2 && started.compareAndSet(false, true)) {
                    connection.migrate(new InetSocketAddress(CELLULAR, 0)).whenComplete((result, error) -> {
                        if (error != null) {
                            migration.completeExceptionally(error);
                        } else {
                            migration.complete(result);
                        }
                    });
                }
            });

            assertThat(digest).as("SHA-256 of 20 MB echoed across a migration").isEqualTo(Echo.sha256(data));
            MigrationResult result = migration.get(10, TimeUnit.SECONDS);
            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);
        }
    }

    @Test
    void aHundredMigrationsInARowKeepTheConnectionAndNeverReuseAnId() throws Exception {
        // Guards the recovery reset at each move: zeroing Kwik's in-flight count, unsynchronized, let later
        // acknowledgements and losses of old packets corrupt the new path's count until an echo stalled
        // congestion-blocked; the reset declares the old packets lost under Kwik's own accounting instead. On
        // failure this prints both sides' send state.
        migrationsInARow(100);
    }

    @Test
    void tenMigrationsInARowKeepTheConnectionAndNeverReuseAnId() throws Exception {
        migrationsInARow(10);
    }

    private void migrationsInARow(int count) throws Exception {
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = startServer(accepted);
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            java.util.Set<String> usedIds = new java.util.HashSet<>();
            usedIds.add(connection.destinationConnectionId());
            for (int i = 0; i < count; i++) {
                InetAddress target = i % 2 == 0 ? CELLULAR : WIFI;
                awaitSpare(connection);
                MigrationResult result = connection.migrate(new InetSocketAddress(target, 0)).get(10, TimeUnit.SECONDS);
                assertThat(usedIds.add(result.newDestinationId()))
                        .as("migration %d uses an ID never used before (%s)", i, result.newDestinationId()).isTrue();
                assertThat(connection.localAddress().getAddress()).isEqualTo(target);
                if (i % 10 == 9) {
                    byte[] data = Echo.randomBytes(64 * 1024, i);
                    byte[] digest;
                    try {
                        digest = Echo.exchange(connection, data);
                    } catch (Exception e) {
                        throw new AssertionError("echo after migration " + i + " failed; client: "
                                + connection.diagnostics().describeSendSide() + "; server: " + accepted.latestState(), e);
                    }
                    assertThat(digest).as("echo after migration %d", i).isEqualTo(Echo.sha256(data));
                }
            }
        }
    }

    @Test
    void aNewPathThatNeverAnswersIsAbandonedAndTheConnectionGoesBack() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            server.dropDatagramsFrom(address -> address.getAddress().equals(CELLULAR));
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);

            long start = System.nanoTime();
            MigrationException failure = migrationFailure(connection.migrate(new InetSocketAddress(CELLULAR, 0)));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(failure.reason()).isEqualTo(MigrationException.Reason.VALIDATION_TIMED_OUT);
            assertThat(failure.fallbackPath()).as("the path it fell back to").isPresent()
                    .get().extracting(p -> p.local().getAddress()).isEqualTo(WIFI);
            // RFC 9000 8.2.4: abandon after 3 x max(current PTO, new path PTO with kInitialRtt) = about 3.1 s here.
            assertThat(millis).as("gave up after three probe timeouts").isBetween(2_900L, 4_500L);
            assertThat(connection.localAddress().getAddress()).as("back on Wi-Fi").isEqualTo(WIFI);
            byte[] data = Echo.randomBytes(200_000, 5);
            assertThat(Echo.exchange(connection, data)).as("the connection still works").isEqualTo(Echo.sha256(data));
            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidationFailed), 2_000,
                    "a PathValidationFailed event");
            assertThat(events).anyMatch(e -> e instanceof MigrationEvent.MigrationAbandoned);
        }
    }

    @Test
    void migratingAwayFromADeadPathRescuesATransfer() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            byte[] data = Echo.randomBytes(4 * 1024 * 1024, 6);
            java.util.concurrent.atomic.AtomicBoolean outage = new java.util.concurrent.atomic.AtomicBoolean();

            byte[] digest = Echo.exchange(connection, data, received -> {
                if (received > 1024 * 1024 && outage.compareAndSet(false, true)) {
                    // Wi-Fi dies abruptly: nothing from it reaches the server any more. Then the app moves.
                    server.dropDatagramsFrom(address -> address.getAddress().equals(WIFI));
                    connection.migrate(new InetSocketAddress(CELLULAR, 0));
                }
            });

            assertThat(digest).as("SHA-256 of the transfer rescued by migration").isEqualTo(Echo.sha256(data));
            assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);
        }
    }

    @Test
    void aServerThatForbidsMigrationMakesMigrateFailFastAndHarmless() throws Exception {
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(false).start();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            long start = System.nanoTime();
            MigrationException failure = migrationFailure(connection.migrate(new InetSocketAddress(CELLULAR, 0)));

            assertThat(failure.reason()).isEqualTo(MigrationException.Reason.PEER_DISABLED_MIGRATION);
            assertThat(failure.fallbackPath()).as("it never left its path").isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
            assertThat(connection.localAddress().getAddress()).isEqualTo(WIFI);
            byte[] data = Echo.randomBytes(100_000, 7);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
        }
    }

    @Test
    void aSecondMigrateWhileOneRunsFailsCleanly() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            server.dropDatagramsFrom(address -> address.getAddress().equals(CELLULAR)); // keeps the first one running

            java.util.concurrent.CompletableFuture<MigrationResult> first = connection.migrate(new InetSocketAddress(CELLULAR, 0));
            MigrationException second = migrationFailure(connection.migrate(new InetSocketAddress(CELLULAR, 0)));

            assertThat(second.reason())
                    .isIn(MigrationException.Reason.MIGRATION_IN_PROGRESS, MigrationException.Reason.NO_SPARE_CONNECTION_ID);
            assertThat(migrationFailure(first).reason()).isEqualTo(MigrationException.Reason.VALIDATION_TIMED_OUT);
        }
    }

    @Test
    void aMigrationAskedForRightAfterConnectWaitsForTheHandshakesConfirmation() throws Exception {
        try (MigrationServer server = startServer();
             LossyRelay relay = new LossyRelay(server.localAddress(), 0, 1)) {
            // With 300 ms from server to client, HANDSHAKE_DONE (and the first spare ID) arrive 300 ms after
            // connect() returns.
            relay.delayServerToClient(300);
            try (MigratingConnection connection = Echo.client(server).server(relay.address())
                    .localAddress(new InetSocketAddress(WIFI, 0)).build().connect()) {
                MigrationResult result = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);

                assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
                assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);
                byte[] data = Echo.randomBytes(100_000, 7);
                assertThat(Echo.exchange(connection, data)).as("echo on the new path").isEqualTo(Echo.sha256(data));
            }
        }
    }

    @Test
    void aMigrationIsRefusedIfTheHandshakeIsNotConfirmedWithinThreeSeconds() throws Exception {
        try (MigrationServer server = startServer();
             LossyRelay relay = new LossyRelay(server.localAddress(), 0, 1)) {
            // With 3.5 s from server to client, HANDSHAKE_DONE arrives 3.5 s after connect() returns.
            relay.delayServerToClient(3_500);
            try (MigratingConnection connection = Echo.client(server).server(relay.address())
                    .connectTimeout(Duration.ofSeconds(20)).idleTimeout(Duration.ofSeconds(30))
                    .localAddress(new InetSocketAddress(WIFI, 0)).build().connect()) {
                long start = System.nanoTime();
                MigrationException failure = migrationFailure(connection.migrate(new InetSocketAddress(CELLULAR, 0)));

                assertThat(failure.reason()).isEqualTo(MigrationException.Reason.HANDSHAKE_NOT_CONFIRMED);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for the confirmation")
                        .isGreaterThanOrEqualTo(Duration.ofMillis(2_900));
                assertThat(connection.localAddress().getAddress()).isEqualTo(WIFI);
            }
        }
    }

    @Test
    void anAddressThatCannotBeBoundIsReportedAsUnusable() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            // 192.0.2.1 (TEST-NET-1) is not configured on this host: bind fails and nothing is sent.
            MigrationException failure = migrationFailure(
                    connection.migrate(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 0)));

            assertThat(failure.reason()).isEqualTo(MigrationException.Reason.ADDRESS_UNUSABLE);
            assertThat(failure).hasMessageContaining("192.0.2.1");
            assertThat(connection.spareConnectionIds()).as("no connection ID was spent").isPositive();
            byte[] data = Echo.randomBytes(10_000, 8);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
        }
    }

    @Test
    void aListenerThatThrowsDoesNotDisturbTheMigration() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            List<MigrationEvent> seenByTheSecondListener = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(event -> {
                throw new IllegalStateException("listener bug");
            });
            connection.addMigrationListener(seenByTheSecondListener::add);
            awaitSpare(connection);

            MigrationResult result = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);

            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            Await.until(() -> seenByTheSecondListener.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted),
                    2_000, "the other listener still gets MigrationCompleted");
            byte[] data = Echo.randomBytes(50_000, 9);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
        }
    }

    @Test
    void migratingToANetworkInterfaceUsesItsAddress() throws Exception {
        java.net.NetworkInterface loopbackInterface = java.net.NetworkInterface.getByInetAddress(Echo.LOOPBACK);
        org.junit.jupiter.api.Assumptions.assumeTrue(loopbackInterface != null, "no loopback interface found");
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);

            MigrationResult result = connection.migrate(loopbackInterface).get(10, TimeUnit.SECONDS);

            assertThat(java.util.Collections.list(loopbackInterface.getInetAddresses()))
                    .contains(result.newPath().local().getAddress());
            assertThat(result.newPath().local().getAddress()).isNotEqualTo(WIFI);
        }
    }

    @Test
    void aServerSideConnectionCannotMigrate() throws Exception {
        java.util.concurrent.CompletableFuture<MigratingConnection> serverSide = new java.util.concurrent.CompletableFuture<>();
        try (MigrationServer server = Echo.serverBuilder().onConnection(serverSide::complete).start();
             MigratingConnection ignored = Echo.client(server).build().connect()) {
            MigratingConnection connection = serverSide.get(5, TimeUnit.SECONDS);

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> connection.migrate(new InetSocketAddress(CELLULAR, 0)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("only the client");
        }
    }

    /** Waits for a migration that must fail and returns its exception. */
    static MigrationException migrationFailure(java.util.concurrent.CompletableFuture<MigrationResult> migration)
            throws Exception {
        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> migration.get(10, TimeUnit.SECONDS));
        assertThat(failure).as("the migration failed").isInstanceOf(java.util.concurrent.ExecutionException.class);
        assertThat(failure.getCause()).isInstanceOf(MigrationException.class);
        return (MigrationException) failure.getCause();
    }

    static void awaitSpare(MigratingConnection connection) throws InterruptedException {
        try {
            Await.until(() -> connection.spareConnectionIds() > 0, 5_000, "the server gives a spare connection ID");
            // connect() returns when the client's handshake completes; HANDSHAKE_DONE, which confirms it and allows
            // migration, may still be on its way (and may come after the spare ID).
            Await.until(() -> connection.diagnostics().handshakeConfirmed(), 5_000, "the handshake is confirmed");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + connection.diagnostics().describeSendSide(), e);
        }
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
