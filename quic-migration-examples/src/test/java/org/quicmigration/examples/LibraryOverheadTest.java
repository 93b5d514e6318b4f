package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The overhead harness, small: both stacks download intact and the table and ratio are printed. */
class LibraryOverheadTest {

    @Test
    void bothStacksDownloadIntactAndTheRatioIsReported() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(LibraryOverhead.class, "4", "1");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        // Ours must finish; plain Kwik may stall on its own lost send request (then it is reported, not timed).
        assertThat(run.output())
                .containsPattern("quic-migration\\s+1\\s+\\d+ \\(\\s*\\d+-\\s*\\d+\\)\\s+\\d+\\.\\d\\s+0")
                .containsPattern("(?m)plain Kwik\\s+(1\\s+\\d+ \\(|0\\s+-\\s+-\\s+1$)")
                .containsPattern("quic-migration / plain Kwik throughput: (\\d+\\.\\d\\d|not measured)")
                .contains("library-overhead.json");
    }
}
