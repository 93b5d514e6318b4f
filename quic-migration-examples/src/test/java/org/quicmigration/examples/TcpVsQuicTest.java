package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The TCP-versus-QUIC example, short (2 runs, 10 ms each way): both downloads survive the network change byte for
 * byte and both interruptions are measured. Which is shorter is what the example measures, not what this asserts.
 */
class TcpVsQuicTest {

    @Test
    void bothDownloadsSurviveTheChangeAndAreMeasured() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(TcpVsQuic.class, "2", "10");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("median +\\d+\\.\\d +\\d+\\.\\d")
                .contains("TCP's interruption / QUIC's:", "OK: every download verified byte for byte");
    }
}
