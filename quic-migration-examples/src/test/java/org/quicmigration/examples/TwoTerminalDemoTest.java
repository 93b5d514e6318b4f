package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-terminal demo: a server process, and a client process driven by typed commands (get, migrate, status,
 * quit); the download after the move is verified and the server logs the client moving.
 */
class TwoTerminalDemoTest {

    @TempDir
    Path directory;

    @Test
    void aClientTypedAtMovesAndKeepsDownloading() throws Exception {
        Path certificate = directory.resolve("demo-server.pem");
        try (ExampleRunner.Background server = ExampleRunner.start(DemoServer.class, "127.0.0.1:0", certificate.toString())) {
            String port = server.await(Pattern.compile("listening on /127\\.0\\.0\\.1:(\\d+)"), 30);
            server.await(Pattern.compile("certificate for localhost written"), 10);

            ExampleRunner.Run client = ExampleRunner.runWithInput(DemoClient.class,
                    "get 200000\nmigrate 127.0.0.3\nget 300_000\nprobe-migrate 127.0.0.4\nget 100_000\nstatus\nbogus\nquit\n",
                    "127.0.0.1:" + port, certificate.toString(), "127.0.0.2");

            assertThat(client.finished()).as("finished within 60 s; output:%n%s", client.output()).isTrue();
            assertThat(client.exitCode()).as("exit code; output:%n%s", client.output()).isZero();
            assertThat(client.output())
                    .containsPattern("got 200,000 bytes .* /127\\.0\\.0\\.2:\\d+ -> .* sha-256 verified")
                    .containsPattern("moved to /127\\.0\\.0\\.3:\\d+ in .* destination connection ID (\\p{XDigit}+) -> (?!\\1)")
                    .containsPattern("got 300,000 bytes .* /127\\.0\\.0\\.3:\\d+ -> .* sha-256 verified")
                    .containsPattern("moved to /127\\.0\\.0\\.4:\\d+ in ")
                    .containsPattern("got 100,000 bytes .* /127\\.0\\.0\\.4:\\d+ -> .* sha-256 verified")
                    .contains("path /127.0.0.4:", "unknown command \"bogus\"", "bye");
            server.await(Pattern.compile("client 1 moved: now at /127\\.0\\.0\\.3:\\d+ \\(validated\\)"), 10);
            server.await(Pattern.compile("client 1 moved: now at /127\\.0\\.0\\.4:\\d+ \\(validated\\)"), 10);
            assertThat(server.output()).contains("client 1 connected from /127.0.0.2:", "client 1 downloaded 300,000 bytes");
        }
    }
}
