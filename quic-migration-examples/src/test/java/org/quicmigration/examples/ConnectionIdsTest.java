package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The connection-ID example: both directions move to fresh IDs, issued with sequence numbers and reset tokens. */
class ConnectionIdsTest {

    @Test
    void bothDirectionsMoveToFreshIds() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(ConnectionIds.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("seq 1 +\\p{XDigit}{16} +8 bytes +reset token \\p{XDigit}{32}")
                .containsPattern("client -> server DCID (\\p{XDigit}{16}) -> (?!\\1)\\p{XDigit}{16} \\(sequence [1-9]")
                .containsPattern("server -> client DCID (\\p{XDigit}{16}) -> (?!\\1)\\p{XDigit}{16} \\(sequence [1-9]")
                .contains("client retires the ID with sequence 0", "OK: one connection, fresh connection IDs");
    }
}
