package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Runs the demo the README points newcomers to, in its own JVM, and checks its exit code and key lines. */
class EchoDemoTest {

    @Test
    void demoEchoesDataAndExitsZero() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                EchoDemo.class.getName(), "1048576"))
                .redirectErrorStream(true)
                .start();
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(finished).as("demo finished within 60 s; output:%n%s", output).isTrue();
        assertThat(process.exitValue()).as("exit code; output:%n%s", output).isZero();
        assertThat(output).contains("server   listening on", "client   connected from",
                "OK: every byte came back intact");
        String[] lines = output.lines().filter(line -> line.startsWith("sha-256")).toArray(String[]::new);
        assertThat(lines).hasSize(2);
        assertThat(lines[0].substring(lines[0].lastIndexOf(' ')))
                .as("digest sent equals digest received").isEqualTo(lines[1].substring(lines[1].lastIndexOf(' ')));
    }
}
