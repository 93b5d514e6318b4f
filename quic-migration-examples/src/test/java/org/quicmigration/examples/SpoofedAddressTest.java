package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The spoofing example: the attacker's address gets at most 3x, is never validated, and the download survives. */
class SpoofedAddressTest {

    @Test
    void theSpoofedAddressIsNeverValidated() throws Exception {
        ExampleRunner.Run run = ExampleRunner.run(SpoofedAddress.class);

        assertThat(run.finished()).as("finished within 60 s; output:%n%s", run.output()).isTrue();
        assertThat(run.exitCode()).as("exit code; output:%n%s", run.output()).isZero();
        assertThat(run.output())
                .containsPattern("server: +the connection's newest packet came from /127\\.0\\.0\\.66:\\d+")
                .containsPattern("server: +PATH_CHALLENGE \\p{XDigit}{16} to /127\\.0\\.0\\.66:\\d+")
                .contains("4,194,304 bytes, sha-256 verified", "OK: the spoofed address got at most 3x")
                .doesNotContainPattern("/127\\.0\\.0\\.66:\\d+ answered");
        Matcher amounts = Pattern.compile("attacker: sent ([\\d,]+) bytes, received ([\\d,]+)").matcher(run.output());
        assertThat(amounts.find()).isTrue();
        long sent = Long.parseLong(amounts.group(1).replace(",", ""));
        long received = Long.parseLong(amounts.group(2).replace(",", ""));
        assertThat(sent).isPositive();
        assertThat(received).isLessThanOrEqualTo(3 * sent);
    }
}
