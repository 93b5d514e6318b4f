package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The one command behind all benchmarks: runs the chosen ones in JVMs of their own and sums up. */
class BenchmarksTest {

    @Test
    void runsAChosenBenchmarkAloneAndWritesTheSummary() throws Exception {
        Path summary = Path.of("target", "benchmarks.json");
        Files.deleteIfExists(summary);

        ExampleRunner.Run run = ExampleRunner.run(Benchmarks.class, "quick", "tracing");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .contains("==== tracing: TracingOverhead 16 1")
                .containsPattern("qlog +1 +\\d+\\.\\d+") // the benchmark's own table, from its own JVM
                .containsPattern("tracing +16 1 +0 +\\d+ +target/tracing-overhead.json")
                .contains("all benchmarks passed");
        assertThat(Files.readString(summary)).contains("\"benchmark\": \"tracing\"", "\"exitCode\": 0");
        assertThat(Files.readString(Path.of("target", "tracing-overhead.json"))).contains("\"tracing\": \"qlog\"");
    }

    @Test
    void anUnknownBenchmarkIsAUsageErrorBeforeAnythingRuns() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(Benchmarks.class, "quick", "tracing,handoff");

        assertThat(run.exitCode()).as("output:%n%s", run.output()).isEqualTo(2);
        assertThat(run.output()).contains("no benchmark named 'handoff'", "usage: Benchmarks")
                .doesNotContain("====");
    }
}
