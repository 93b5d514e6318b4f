package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MigrationFailuresTest {

    @Test
    void aBlackHoleFallsBackAndAForbiddingServerRefusesBothCleanly() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(MigrationFailures.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output()).contains("VALIDATION_TIMED_OUT", "fell back to /127.0.0.2:",
                "PEER_DISABLED_MIGRATION", "OK: both failures were clean");
        assertThat(run.output()).doesNotContain("still works on /127.0.0.3", ": false");
    }
}
