package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Runs the demo the README points newcomers to, in its own JVM, and checks its exit code and key lines. */
class EchoDemoTest {

    @Test
    void demoEchoesDataAndExitsZero() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(EchoDemo.class, "1048576");
        String output = run.output();

        assertThat(run.finished()).as("demo finished within 60 s; output:%n%s", output).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", output).isZero();
        assertThat(output).contains("server   listening on", "client   connected from",
                "OK: every byte came back intact");
        String[] lines = output.lines().filter(line -> line.startsWith("sha-256")).toArray(String[]::new);
        assertThat(lines).hasSize(2);
        assertThat(lines[0].substring(lines[0].lastIndexOf(' ')))
                .as("digest sent equals digest received").isEqualTo(lines[1].substring(lines[1].lastIndexOf(' ')));
    }
}
