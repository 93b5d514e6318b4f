package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The scale harness, small: 20 clients (ours, or Netty's) rebound at once must all be validated and keep working. */
class ServerScaleBenchmarkTest {

    @Test
    void everyClientReboundAtOnceIsValidatedAndKeepsWorking() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(ServerScaleBenchmark.class, "20");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("20 connections from our clients open", "20 validated by the server",
                "0 connections failed");
    }

    @Test
    void nettyClientsToo() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(ServerScaleBenchmark.class, "20", "netty");

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("20 connections from Netty (quiche) clients open in",
                "(0 failed their first echo)", "20 validated by the server", "0 connections failed");
    }

    @Test
    void anUnknownClientKindIsAUsageError() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(ServerScaleBenchmark.class, "20", "quiche");

        assertThat(run.exitCode()).as("output:%n%s", run.output()).isEqualTo(2);
        assertThat(run.output()).contains("usage: ServerScaleBenchmark [connections] [ours|netty]");
    }
}
