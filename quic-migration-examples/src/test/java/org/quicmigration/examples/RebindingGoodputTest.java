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
        ExampleRunner.Run run = ExampleRunner.run(RebindingGoodput.class, "5", "1", "0", "300", "ours");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("ours +0 ms +never +\\d+\\.\\d +100%")
                .containsPattern("ours +0 ms +300 ms +\\d+\\.\\d +\\d+% +\\d+")
                .doesNotContain("did not finish", "FAILED");
    }

    @Test
    void theRivalNettyServerServesOurClient() throws Exception {
        // No rebinding within a 2 MiB download: this checks the comparison's plumbing, not quiche's migration.
        ExampleRunner.Run run = ExampleRunner.run(RebindingGoodput.class, "2", "1", "0", "30000", "netty");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).containsPattern("netty +0 ms +never +\\d+\\.\\d +100%")
                .doesNotContain("broke off", "FAILED");
    }
}
