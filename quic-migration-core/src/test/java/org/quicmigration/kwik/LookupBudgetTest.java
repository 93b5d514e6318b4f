package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LookupBudgetTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void allowsTheRateAndRefusesTheRestUntilTimeRefillsIt() {
        LookupBudget budget = new LookupBudget(100);
        long now = System.nanoTime();
        int allowed = 0;
        for (int i = 0; i < 1_000; i++) {
            if (budget.tryAcquire(now)) {
                allowed++;
            }
        }
        assertThat(allowed).as("a burst of 1,000 unknown IDs at one instant").isEqualTo(100);
        assertThat(budget.tryAcquire(now + SECOND / 100)).as("10 ms later: one more").isTrue();
        assertThat(budget.tryAcquire(now + SECOND / 100)).isFalse();
        int later = 0;
        for (int i = 0; i < 1_000; i++) {
            if (budget.tryAcquire(now + 10 * SECOND)) {
                later++;
            }
        }
        assertThat(later).as("refilled, but never beyond one second's worth").isEqualTo(100);
    }
}
