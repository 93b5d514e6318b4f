package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The handover benchmark, short (2 runs, no added delay): every way survives the change, byte for byte. */
class HandoverBenchmarkTest {

    @Test
    void everyWaySurvivesTheChangeAndIsMeasured() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(HandoverBenchmark.class, "2", "0");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        for (String way : new String[]{"quic migrate, old network dead", "quic to standby, old dead",
                "quic to remembered, old dead", "quic migrate, old network up",
                "quic NAT rebinding", "quic new connection", "tcp+tls reconnect"}) {
            assertThat(run.output()).containsPattern(java.util.regex.Pattern.quote(way) + " +0 ms +\\d+\\.\\d \\(");
        }
        assertThat(run.output()).contains("raw results:").doesNotContain("FAILED");
    }
}
