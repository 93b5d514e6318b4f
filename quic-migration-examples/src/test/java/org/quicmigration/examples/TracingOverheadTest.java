package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The tracing-overhead harness, small: every mode echoes its data intact and the listener sees packets. */
class TracingOverheadTest {

    @Test
    void everyModeEchoesIntactAndTheListenerCountsPackets() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(TracingOverhead.class, "2", "1");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("off ", "qlog ").doesNotContain("FAILED");
        String listenerLine = run.output().lines().filter(line -> line.startsWith("listener")).findFirst().orElseThrow();
        long packets = Long.parseLong(listenerLine.trim().replaceAll(".*\\s", ""));
        assertThat(packets).as("packets traced for 2 MiB echoed; %s", listenerLine).isGreaterThan(1_000);
    }
}
