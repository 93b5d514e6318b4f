package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The server side of migration (RFC 9000 9.3) with real UDP on loopback: clients behind a NAT that rebinds,
 * an on-path attacker, garbage, and a client that hops over a thousand addresses.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ServerMigrationTest {

    private static final InetAddress HOME = address("127.0.0.1");
    private static final InetAddress WIFI = address("127.0.0.2");
    private static final InetAddress CELLULAR = address("127.0.0.3");
    private static final InetAddress ATTACKER = address("127.0.0.9");

    @ParameterizedTest(name = "rebinding the {0} every {1} ms")
    @CsvSource({"port, 1000", "port, 300", "port, 100", "address, 1000", "address, 300", "address, 100"})
    void aServerFollowsAClientThroughNatRebindingsDuringATransfer(String what, int intervalMillis) throws Exception {
        List<MigrationEvent> events = new CopyOnWriteArrayList<>();
        java.util.concurrent.CompletableFuture<MigratingConnection> serverSide = new java.util.concurrent.CompletableFuture<>();
        try (MigrationServer server = Echo.serverBuilder().migrationListener(events::add).onConnection(c -> {
                 c.diagnostics().recordFirstSends();
                 serverSide.complete(c);
                 Echo.serve(c);
             }).start();
             RebindingRelay nat = new RebindingRelay(server.localAddress(), HOME);
             MigratingConnection connection = Echo.client(server).server(nat.address()).build().connect()) {
            InetSocketAddress firstBinding = nat.outsideAddress();
            byte[] data = Echo.randomBytes(6 * 1024 * 1024, intervalMillis);
            ScheduledExecutorService rebinder = Executors.newSingleThreadScheduledExecutor();
            boolean[] flip = {false};
            try {
                rebinder.scheduleAtFixedRate(() -> {
                    try {
                        InetAddress next = what.equals("port") ? HOME : (flip[0] ? WIFI : CELLULAR);
                        flip[0] = !flip[0];
                        nat.rebind(next);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, Math.min(intervalMillis, 200), intervalMillis, TimeUnit.MILLISECONDS);

                byte[] digest;
                java.util.concurrent.CompletableFuture<byte[]> transfer = new java.util.concurrent.CompletableFuture<>();
                Thread worker = new Thread(() -> {
                    try {
                        transfer.complete(Echo.exchange(connection, data));
                    } catch (Throwable e) {
                        transfer.completeExceptionally(e);
                    }
                }, "rebinding-transfer");
                worker.setDaemon(true);
                worker.start();
                try {
                    digest = transfer.get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("transfer failed after " + nat.rebinds() + " rebindings (relay failure: "
                            + nat.failure() + "); client: "
                            + connection.diagnostics().describeSendSide() + "; server: "
                            + (serverSide.isDone() ? serverSide.join().diagnostics().describeSendSide() : "none"), e);
                }

                assertThat(digest).as("SHA-256 of 6 MB echoed through %d rebindings", nat.rebinds())
                        .isEqualTo(Echo.sha256(data));
            } finally {
                rebinder.shutdownNow();
                rebinder.awaitTermination(5, TimeUnit.SECONDS);
            }
            assertThat(nat.rebinds()).isGreaterThanOrEqualTo(1);
            // After the last rebinding the server must end up on the client's current binding, validated.
            byte[] more = Echo.randomBytes(100_000, 1);
            assertThat(Echo.exchange(connection, more)).isEqualTo(Echo.sha256(more));
            MigratingConnection onServer = serverSide.get(5, TimeUnit.SECONDS);
            InetSocketAddress current = nat.outsideAddress();
            Await.until(() -> onServer.peerAddress().equals(current), 5_000,
                    "the server sends to the client's newest binding " + current + ", not " + onServer.peerAddress());
            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted
                    && e.path().remote().equals(current)), 5_000, "a MigrationCompleted event for " + current);
            // The QUIC interop runner's rule for rebind-port and rebind-addr: the server's first packet on every new
            // 4-tuple carries PATH_CHALLENGE.
            java.util.Map<InetSocketAddress, String> firstSends = new java.util.HashMap<>(onServer.diagnostics().firstSends());
            firstSends.remove(firstBinding);
            assertThat(firstSends).as("new client addresses the server sent to").isNotEmpty();
            assertThat(firstSends).as("what the server's first datagram to each new client address carried")
                    .allSatisfy((address, first) -> assertThat(first).isEqualTo("PATH_CHALLENGE"));
        }
    }

    @Test
    void aSpoofedSourceCannotTakeOverAConnectionNorBeFloodedByIt() throws Exception {
        List<MigrationEvent> events = new CopyOnWriteArrayList<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().migrationListener(events::add).onConnection(accepted)
                .start();
             RebindingRelay nat = new RebindingRelay(server.localAddress(), HOME);
             DatagramSocket attacker = new DatagramSocket(new InetSocketAddress(ATTACKER, 0));
             MigratingConnection connection = Echo.client(server).server(nat.address()).build().connect()) {
            nat.countFromServer(attacker);
            InetSocketAddress attackerAddress = (InetSocketAddress) attacker.getLocalSocketAddress();
            byte[] data = Echo.randomBytes(4 * 1024 * 1024, 11);
            AtomicBoolean diverted = new AtomicBoolean();

            byte[] digest = Echo.exchange(connection, data, received -> {
                if (received > 1024 * 1024 && diverted.compareAndSet(false, true)) {
                    // The attacker gets the client's newest packet first and sends it from its own address.
                    nat.divertNextDatagramTo(attacker);
                }
            });

            assertThat(digest).as("the transfer is intact").isEqualTo(Echo.sha256(data));
            Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidationStarted
                    && e.path().remote().equals(attackerAddress)), 5_000, "the server challenged the attacker's address");
            MigratingConnection onServer = accepted.first();
            Await.until(() -> onServer.peerAddress().equals(nat.outsideAddress()), 5_000,
                    "the connection stays with the client, not " + onServer.peerAddress());
            long received = nat.bytesToServerFrom(attackerAddress);
            long sent = nat.bytesFromServerTo(attackerAddress);
            assertThat(received).as("the attacker sent one datagram").isPositive();
            // RFC 9000 8: at most three times what came from the unvalidated address.
            assertThat(sent).as("bytes the server sent to the attacker, who sent %d", received)
                    .isLessThanOrEqualTo(3 * received);
            assertThat(events).noneMatch(e -> e instanceof MigrationEvent.PathValidated
                    && e.path().remote().equals(attackerAddress));
        }
    }

    @Test
    void garbageOfEveryLengthNeverHurtsTheServerOrItsConnections() throws Exception {
        try (MigrationServer server = Echo.serverBuilder().start();
             DatagramSocket garbage = new DatagramSocket(new InetSocketAddress(ATTACKER, 0));
             MigratingConnection connection = Echo.client(server).build().connect()) {
            byte[] serverId = java.util.HexFormat.of().parseHex(connection.destinationConnectionId());
            Random random = new Random(42);
            InetSocketAddress target = new InetSocketAddress(HOME, server.localAddress().getPort());
            for (int length = 0; length <= 1500; length++) {
                byte[] noise = new byte[length];
                random.nextBytes(noise);
                garbage.send(new DatagramPacket(noise, length, target));
                if (length > 1 + serverId.length) {
                    // A valid-looking short header for the live connection, with a random (undecryptable) payload.
                    byte[] forged = noise.clone();
                    forged[0] = (byte) (0x40 | (forged[0] & 0x3f));
                    System.arraycopy(serverId, 0, forged, 1, serverId.length);
                    garbage.send(new DatagramPacket(forged, length, target));
                }
            }

            byte[] data = Echo.randomBytes(1024 * 1024, 12);
            assertThat(Echo.exchange(connection, data)).as("the live connection is untouched")
                    .isEqualTo(Echo.sha256(data));
            try (MigratingConnection another = Echo.client(server).build().connect()) {
                assertThat(Echo.exchange(another, data)).as("the server still accepts connections")
                        .isEqualTo(Echo.sha256(data));
            }
        }
    }

    @Test
    void aClientHoppingOverAThousandAddressesCostsBoundedStateAndKeepsWorking() throws Exception {
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().maxPathsPerConnection(8).onConnection(accepted).start();
             RebindingRelay nat = new RebindingRelay(server.localAddress(), HOME);
             MigratingConnection connection = Echo.client(server).server(nat.address()).build().connect()) {
            byte[] data = Echo.randomBytes(256 * 1024, 13);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            MigratingConnection onServer = accepted.first();
            // 1,000 bindings, each used by at least one client datagram (a PING from the client's keep-alive is not
            // needed: a small echo is running while the bindings change).
            Thread traffic = new Thread(() -> {
                try {
                    for (int i = 0; i < 200 && !Thread.currentThread().isInterrupted(); i++) {
                        Echo.exchange(connection, Echo.randomBytes(2_000, i));
                    }
                } catch (Exception e) {
                    // the connection may stall while its address changes under it; checked below
                }
            }, "hopping-traffic");
            traffic.setDaemon(true);
            traffic.start();
            int maxTracked = 0;
            for (int i = 0; i < 1_000; i++) {
                nat.rebind(HOME);
                if (i % 50 == 0) {
                    maxTracked = Math.max(maxTracked, onServer.diagnostics().trackedPaths());
                }
            }
            traffic.interrupt();
            traffic.join(30_000);
            maxTracked = Math.max(maxTracked, onServer.diagnostics().trackedPaths());

            assertThat(nat.rebinds()).isEqualTo(1_000);
            assertThat(maxTracked).as("paths the server tracks for one connection").isLessThanOrEqualTo(8);
            byte[] after = Echo.randomBytes(1024 * 1024, 14);
            assertThat(Echo.exchange(connection, after)).as("the connection works once the client settles")
                    .isEqualTo(Echo.sha256(after));
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
