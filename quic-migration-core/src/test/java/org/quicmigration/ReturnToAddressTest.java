package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** A client that comes back to the very address and port it used before: the server remembers it as validated. */
class ReturnToAddressTest {

    @Test
    void aClientBackOnTheAddressAndPortItUsedBeforeKeepsItsConnection() throws Exception {
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(true)
                .migrationListener(serverEvents::add).start();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .migrationPolicy(MigrationPolicy.disabled()).build().connect()) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            connection.addMigrationListener(events::add);
            awaitSpare(connection);
            InetSocketAddress cellular = connection.migrate(new InetSocketAddress(CELLULAR, 0))
                    .get(10, TimeUnit.SECONDS).newPath().local();
            awaitSpare(connection);
            connection.migrate(new InetSocketAddress(WIFI, 0)).get(10, TimeUnit.SECONDS);
            awaitSpare(connection);

            byte[] data = Echo.randomBytes(4 * 1024 * 1024, 8);
            java.util.concurrent.CompletableFuture<byte[]> echoed = Echo.exchangeAsync(connection, data);
            MigrationResult back = connection.migrate(cellular).get(10, TimeUnit.SECONDS);

            assertThat(back.newPath().local()).isEqualTo(cellular);
            assertThat(echoed.get(20, TimeUnit.SECONDS)).as("events %s; server %s", events, serverEvents)
                    .isEqualTo(Echo.sha256(data));
        }
    }
}
