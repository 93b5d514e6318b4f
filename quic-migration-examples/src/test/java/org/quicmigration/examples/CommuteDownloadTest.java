package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The commute example: five verified segments over three networks, two abrupt failures, one connection. */
class CommuteDownloadTest {

    @Test
    void fiveSegmentsThreeNetworksOneConnection() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(CommuteDownload.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output().lines().filter(line -> line.contains("sha-256 verified"))).hasSize(5);
        assertThat(run.output())
                .contains("segment 3: 1,048,576 bytes", "home Wi-Fi -> cellular", "cellular -> office Wi-Fi",
                        "moved to cellular", "moved to office Wi-Fi", "the server saw 1 connection(s)",
                        "OK: five segments over three networks");
    }
}
