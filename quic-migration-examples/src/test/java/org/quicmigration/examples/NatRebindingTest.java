package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The NAT-rebinding example: the server validates the client's new port and follows; the download is intact. */
class NatRebindingTest {

    @Test
    void theServerFollowsTheNewPort() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(NatRebinding.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("server: PATH_CHALLENGE \\p{XDigit}{16} to /127\\.0\\.0\\.1:\\d+")
                .containsPattern("server: following the client at /127\\.0\\.0\\.1:\\d+")
                .contains("4,194,304 bytes, sha-256 verified", "OK: the NAT moved the client");
    }
}
