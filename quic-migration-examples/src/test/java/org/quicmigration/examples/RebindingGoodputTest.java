package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The rebinding-goodput harness, short (5 MiB, one run, no added delay, rebinding every 300 ms): the download
 * survives the rebinding byte for byte and its goodput is measured.
 */
class RebindingGoodputTest {

    @Test
    void aDownloadSurvivesRebindingEvery300Milliseconds() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(RebindingGoodput.class, "5", "1", "0", "300");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("0 ms +never +\\d+\\.\\d +100%")
                .containsPattern("0 ms +300 ms +\\d+\\.\\d +\\d+% +\\d+")
                .doesNotContain("did not finish", "FAILED");
    }
}
