package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WifiToCellularTest {

    @Test
    void theConnectionMovesToCellularAndEveryChunkIsVerified() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(WifiToCellular.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("connected on Wi-Fi        /127.0.0.2:", "PATH_CHALLENGE sent       on /127.0.0.3:",
                "PATH_RESPONSE matched     on /127.0.0.3:", "chunk 1 on Wi-Fi", "chunk 2 on cellular",
                "same connection, now on  /127.0.0.3:", "OK: one connection, two networks, every byte verified");
        assertThat(run.output()).doesNotContain("MISMATCH");
    }
}
