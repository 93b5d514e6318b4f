package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** What the application chains to a migration's future runs on none of the library's network threads. */
class MigrationCompletionThreadTest {

    @Test
    void aStageThatBlocksOnOneConnectionsMigrationHoldsUpNoOtherConnection() throws Exception {
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(true).start();
             MigratingConnection blocked = client(server);
             MigratingConnection other = client(server)) {
            awaitSpare(blocked);
            awaitSpare(other);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> blockedThread = new CompletableFuture<>();
            CompletableFuture<Void> stage = blocked.migrate(new InetSocketAddress(CELLULAR, 0)).thenAccept(result -> {
                blockedThread.complete(Thread.currentThread().getName());
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                String thread = blockedThread.get(10, TimeUnit.SECONDS);
                assertThat(thread).as("the thread running the application's stage")
                        .doesNotContain("binding").doesNotContain("events");

                // While that stage blocks, the other connection migrates and moves data across the migration.
                byte[] data = Echo.randomBytes(1024 * 1024, 3);
                CompletableFuture<byte[]> echoed = Echo.exchangeAsync(other, data);
                MigrationResult moved = other.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
                assertThat(moved.newPath().local().getAddress()).isEqualTo(CELLULAR);
                assertThat(echoed.get(20, TimeUnit.SECONDS)).isEqualTo(Echo.sha256(data));
                assertThat(stage).as("the blocked stage").isNotDone();
            } finally {
                release.countDown();
            }
            stage.get(10, TimeUnit.SECONDS);
        }
    }

    private static MigratingConnection client(MigrationServer server) throws Exception {
        return Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                .migrationPolicy(MigrationPolicy.disabled()).build().connect();
    }
}
