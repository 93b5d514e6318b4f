package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packet-trace example: the migration shows in the trace and the timeline, and a qlog file is written. */
class PacketTraceTest {

    @TempDir
    Path qlog;

    @Test
    void theMigrationShowsInTheTraceAndTheTimeline() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(PacketTrace.class, qlog.toString());

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("-> +127\\.0\\.0\\.2:\\d+ +127\\.0\\.0\\.1:\\d+ +\\p{XDigit}+ +0 initial")
                .containsPattern("-> +127\\.0\\.0\\.3:\\d+ +127\\.0\\.0\\.1:\\d+ .* 1RTT .*path_challenge")
                .containsPattern("<- +127\\.0\\.0\\.1:\\d+ +127\\.0\\.0\\.3:\\d+ .* 1RTT .*path_response")
                .contains("timeline", "migration to", "complete", "PATH_CHALLENGE packet", "PATH_RESPONSE packet",
                        "OK: the migration is in the trace");
        try (var files = Files.list(qlog)) {
            assertThat(files.map(path -> path.getFileName().toString())).singleElement()
                    .satisfies(name -> assertThat(name).endsWith("_client.sqlog"));
        }
    }
}
