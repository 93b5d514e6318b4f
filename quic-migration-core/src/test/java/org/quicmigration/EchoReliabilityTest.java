package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;

/**
 * The foundation's reliability bar: many consecutive 2 MB echo transfers, each verified by SHA-256 and none
 * slower than 5 s, directly on loopback and through a relay that drops 2 % of datagrams.
 */
class EchoReliabilityTest {

    private static final int TRANSFERS = Integer.getInteger("quicmigration.echoTransfers", 100);
    private static final int SIZE = 2 * 1024 * 1024;
    private static final long DEADLINE_MILLIS = 5_000;
    private static final int TRANSFERS_PER_CONNECTION = 20;

    @Test
    void aHundredEchoTransfersOnLoopbackNeverStall() throws Exception {
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().onConnection(accepted).start()) {
            long worst = runTransfers(Echo.client(server).build(), accepted);
            System.out.printf("loopback: %d transfers of %d bytes, worst %d ms%n", TRANSFERS, SIZE, worst);
        }
    }

    @Test
    void aHundredEchoTransfersThroughTwoPercentLossNeverStall() throws Exception {
        // Guards against a stall for good with the client waiting for the echo's tail: Kwik forgets a stream once
        // its final frame is sent, so final frames lost after that, whose send request Kwik's race also lost, were
        // never resent (StallGuard item 4 restores them). The test prints both sides' send state and a thread dump
        // when it fails, and how often the fix acted.
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().onConnection(accepted).start();
             LossyRelay relay = new LossyRelay((InetSocketAddress) server.localAddress(), 0.02, 7)) {
            long worst = runTransfers(Echo.client(server).server(relay.address()).build(), accepted);
            System.out.printf("2%% loss: %d transfers of %d bytes, worst %d ms, relay dropped %d of %d datagrams%n",
                    TRANSFERS, SIZE, worst, relay.dropped(), relay.dropped() + relay.forwarded());
            assertThat(relay.dropped()).as("the relay really dropped datagrams").isPositive();
        }
    }

    /** Runs the transfers over a few connections; returns the slowest transfer's time in ms. */
    private static long runTransfers(MigratingClient client, Echo.Accepted accepted) throws Exception {
        long worst = 0;
        long restored = 0;
        long readvertised = 0;
        long[] finalFrames = new long[2]; // client, server
        long[] lossTimers = new long[2]; // client, server
        MigratingConnection connection = null;
        try {
            for (int i = 0; i < TRANSFERS; i++) {
                if (i % TRANSFERS_PER_CONNECTION == 0) {
                    if (connection != null) {
                        restored += connection.diagnostics().stallGuardCounters()[0];
                        readvertised += connection.diagnostics().stallGuardCounters()[1];
                        countBothSides(connection, accepted.latest(), finalFrames, lossTimers);
                        connection.close();
                    }
                    connection = client.connect();
                }
                byte[] data = Echo.randomBytes(SIZE, i);
                MigratingConnection current = connection;
                long start = System.nanoTime();
                CompletableFuture<byte[]> echoed = Echo.exchangeAsync(current, data);
                byte[] digest;
                try {
                    digest = echoed.get(DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    fail("transfer %d stalled: no complete echo within %d ms%nclient: %s%nserver: %s%n%s", i, DEADLINE_MILLIS,
                            current.diagnostics().describeSendSide(), accepted.latestState(), Diagnostics.threadDump());
                    return worst;
                } catch (ExecutionException e) {
                    throw new AssertionError("transfer " + i + " failed", e.getCause());
                }
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                worst = Math.max(worst, millis);
                assertThat(digest).as("SHA-256 of echo %d", i).isEqualTo(Echo.sha256(data));
            }
        } finally {
            if (connection != null) {
                restored += connection.diagnostics().stallGuardCounters()[0];
                readvertised += connection.diagnostics().stallGuardCounters()[1];
                countBothSides(connection, accepted.latest(), finalFrames, lossTimers);
                connection.close();
            }
        }
        System.out.printf("client stall guard: %d send requests restored, %d credit frames re-sent%n", restored, readvertised);
        System.out.printf("final frames of forgotten streams restored: client %d, server %d%n", finalFrames[0], finalFrames[1]);
        System.out.printf("cancelled loss timers set again: client %d, server %d%n", lossTimers[0], lossTimers[1]);
        return worst;
    }

    /** Adds both sides' counts of restored final frames and of loss timers set again (client first). */
    private static void countBothSides(MigratingConnection client, MigratingConnection server, long[] finalFrames,
            long[] lossTimers) {
        finalFrames[0] += client.diagnostics().stallGuardCounters()[2];
        lossTimers[0] += client.diagnostics().stallGuardCounters()[3];
        if (server != null) {
            finalFrames[1] += server.diagnostics().stallGuardCounters()[2];
            lossTimers[1] += server.diagnostics().stallGuardCounters()[3];
        }
    }
}
