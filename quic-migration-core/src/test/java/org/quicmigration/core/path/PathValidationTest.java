package org.quicmigration.core.path;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.Tuple;

class PathValidationTest {

    private static final long MS = 1_000_000L;
    private static final Tuple PATH = new Tuple(new InetSocketAddress("127.0.0.3", 6000),
            new InetSocketAddress("127.0.0.1", 4433));

    private final PathValidation validation = new PathValidation(PATH, 0, 100 * MS, 1000 * MS, new SplittableRandom(3));

    @Test
    void everyChallengeCarriesFreshEightByteData() {
        List<byte[]> sent = new ArrayList<>();
        for (long now = 0; now < 1000 * MS; now += MS) {
            byte[] data = validation.challengeToSend(now);
            if (data != null) {
                sent.add(data);
            }
        }

        assertThat(sent).allSatisfy(data -> assertThat(data).hasSize(8));
        assertThat(sent.stream().map(java.util.HexFormat.of()::formatHex).distinct().count()).isEqualTo(sent.size());
    }

    @Test
    void challengesAreResentWithExponentialBackoff() {
        List<Long> sentAt = new ArrayList<>();
        for (long now = 0; now < 1000 * MS; now += MS) {
            if (validation.challengeToSend(now) != null) {
                sentAt.add(now / MS);
            }
        }

        assertThat(sentAt).containsExactly(0L, 100L, 300L, 700L);
    }

    @Test
    void theRoundTripCountsFromWhenTheChallengeLeftNotFromWhenItWasDecided() {
        byte[] data = validation.challengeToSend(0);
        assertThat(validation.challengeHasLeft()).as("decided, not sent").isFalse();
        assertThat(validation.challengeLeft(new byte[8], 11 * MS)).as("unknown data").isFalse();
        assertThat(validation.challengeHasLeft()).isFalse();

        assertThat(validation.challengeLeft(data, 12 * MS)).isTrue();
        assertThat(validation.challengeHasLeft()).isTrue();
        assertThat(validation.onResponse(data, 17 * MS)).isTrue();

        assertThat(validation.roundTripNanos()).isEqualTo(5 * MS);
    }

    @Test
    void aResponseToAnyOutstandingChallengeValidatesAndGivesItsRoundTrip() {
        byte[] first = validation.challengeToSend(0);
        validation.challengeToSend(100 * MS);

        assertThat(validation.onResponse(first, 130 * MS)).isTrue();

        assertThat(validation.status()).isEqualTo(PathValidation.Status.SUCCEEDED);
        assertThat(validation.roundTripNanos()).isEqualTo(130 * MS);
        assertThat(validation.nextTimerNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aResponseWithOtherDataIsIgnored() {
        byte[] sent = validation.challengeToSend(0);
        byte[] wrong = sent.clone();
        wrong[0] ^= 1;

        assertThat(validation.onResponse(wrong, 10 * MS)).isFalse();
        assertThat(validation.status()).isEqualTo(PathValidation.Status.PENDING);
    }

    @Test
    void validationFailsAtItsDeadlineAndNotBefore() {
        validation.challengeToSend(0);

        assertThat(validation.onTimer(999 * MS)).isFalse();
        assertThat(validation.onTimer(1000 * MS)).isTrue();
        assertThat(validation.status()).isEqualTo(PathValidation.Status.FAILED);
        assertThat(validation.challengeToSend(1001 * MS)).as("no challenge after failure").isNull();
    }

    @Test
    void timeoutIsThreeTimesTheLargerPto() {
        Duration maxAckDelay = Duration.ofMillis(25);
        assertThat(Pto.initial(maxAckDelay)).as("333 ms + 4 x 166.5 ms + 25 ms").isEqualTo(Duration.ofMillis(1024));
        assertThat(Pto.validationTimeout(Duration.ofMillis(10), maxAckDelay))
                .as("a fast current path: the new path's initial PTO rules")
                .isEqualTo(Pto.initial(maxAckDelay).multipliedBy(3));
        assertThat(Pto.validationTimeout(Duration.ofSeconds(5), maxAckDelay))
                .as("a slow current path rules").isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void anUnvalidatedPathMaySendThreeTimesWhatItReceived() {
        AmplificationBudget budget = new AmplificationBudget(3);
        budget.onReceived(1200);

        assertThat(budget.trySend(3600)).isTrue();
        assertThat(budget.trySend(1)).isFalse();
        budget.validated();
        assertThat(budget.trySend(100_000)).isTrue();
    }
}
