package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Kwik never retransmits a lost MAX_DATA. With small receive windows and a lossy path, the client keeps
 * hitting the server's connection limit; when the MAX_DATA that raised it is lost, only our answer to the
 * client's DATA_BLOCKED gets the transfer going again.
 */
class FlowControlRecoveryTest {

    @Test
    void tinyWindowsThroughFivePercentLossCompleteAndBlockedPeersGetCreditAgain() throws Exception {
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().streamReceiveWindow(4 * 1024).onConnection(accepted).start();
             LossyRelay relay = new LossyRelay(server.localAddress(), 0.05, 11);
             MigratingConnection connection = Echo.client(server).server(relay.address())
                     .streamReceiveWindow(4 * 1024).build().connect()) {
            long readvertised = 0;
            for (int i = 0; i < 5; i++) {
                byte[] data = Echo.randomBytes(256 * 1024, i);
                CompletableFuture<byte[]> echoed = Echo.exchangeAsync(connection, data);
                assertThat(echoed.get(30, TimeUnit.SECONDS)).as("SHA-256 of echo %d", i).isEqualTo(Echo.sha256(data));
            }
            readvertised = accepted.first().diagnostics().stallGuardCounters()[1] + connection.diagnostics().stallGuardCounters()[1];
            assertThat(readvertised).as("credit frames re-sent for a blocked peer, by client and server")
                    .isPositive();
        }
    }
}
