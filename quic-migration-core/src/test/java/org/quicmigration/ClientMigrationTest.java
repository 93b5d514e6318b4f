package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Client migration end to end, on loopback: 127.0.0.2 is "Wi-Fi", 127.0.0.3 "cellular". */
class ClientMigrationTest {

    static final InetAddress WIFI = address("127.0.0.2");
    static final InetAddress CELLULAR = address("127.0.0.3");

    static MigrationServer startServer() throws Exception {
        return MigrationServer.builder()
                .bindAddress(new InetSocketAddress(Echo.LOOPBACK, 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(Echo.ALPN)
                .acceptClientMigration(true)
                .onConnection(Echo::serve)
                .start();
    }

    @Test
    void migrationMovesTheConnectionToTheNewAddressWithAFreshConnectionId() throws Exception {
        try (MigrationServer server = startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            byte[] before = Echo.randomBytes(100_000, 1);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
            String oldId = connection.destinationConnectionId();
            awaitSpare(connection);

            MigrationResult result = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);

            assertThat(result.oldPath().local().getAddress()).isEqualTo(WIFI);
            assertThat(result.newPath().local().getAddress()).isEqualTo(CELLULAR);
            assertThat(result.oldDestinationId()).isEqualTo(oldId);
            assertThat(result.newDestinationId()).as("RFC 9000 9.5: a new path uses a new connection ID")
                    .isNotEqualTo(oldId);
            assertThat(connection.localAddress().getAddress()).isEqualTo(CELLULAR);
            byte[] after = Echo.randomBytes(300_000, 2);
            assertThat(Echo.exchange(connection, after)).isEqualTo(Echo.sha256(after));
        }
    }

    static void awaitSpare(MigratingConnection connection) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (connection.spareConnectionIds() == 0) {
            assertThat(System.nanoTime()).as("the server gives a spare connection ID within 5 s").isLessThan(deadline);
            Thread.sleep(5);
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
