package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The preferred-address example: the handshake at 127.0.0.1, the data from 127.0.0.4, validated first. */
class PreferredAddressTest {

    @Test
    void theConnectionMovesToThePreferredAddressAfterValidation() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(PreferredAddress.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("offers preferred_address /127\\.0\\.0\\.4:\\d+")
                .containsPattern("client: sends PATH_CHALLENGE to /127\\.0\\.0\\.4:\\d+")
                .containsPattern("server: client seen on /127\\.0\\.0\\.4:\\d+ -> /127\\.0\\.0\\.1:\\d+: PATH_CHALLENGE")
                .containsPattern("server: now sends from /127\\.0\\.0\\.4:\\d+")
                .containsPattern("4,194,304 bytes, sha-256 verified; the connection ends at /127\\.0\\.0\\.4:\\d+")
                .contains("OK: handshake at the front door");
        // RFC 9000 9.6.2: the server validates before it moves.
        assertThat(run.output().indexOf("server: client seen on"))
                .isLessThan(run.output().indexOf("server: now sends from"));
    }
}
