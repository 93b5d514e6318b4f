package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The received bytes over time a download keeps for its chart, beside the pause it measures. */
class ChartReceivedBytesTest {

    private static final byte[] BLOCK = new byte[16 * 1024];
    private static final long MS = 1_000_000L;

    /** Virtual time for the watches, in nanoseconds. */
    private final java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000 * MS);

    @Test
    void thePauseAfterTheChangeShowsAsAFlatStepOfTheSameLength() throws Exception {
        DownloadWatch watch = new DownloadWatch(() -> now.addAndGet(20_000));
        while (!watch.changeDue()) {
            watch.data(BLOCK, BLOCK.length);
        }
        watch.changed();
        now.addAndGet(50 * MS); // the stall
        while (watch.received() < Handovers.TOTAL) {
            watch.data(BLOCK, BLOCK.length);
        }

        Handovers.Download download = watch.result();

        double[] millis = download.received().millis();
        long[] bytes = download.received().bytes();
        assertThat(millis).as("times").hasSameSizeAs(bytes).isSorted();
        assertThat(bytes).as("bytes in all only grow").isSorted();
        assertThat(bytes[bytes.length - 1]).as("the last point is the whole download").isEqualTo(Handovers.TOTAL);
        assertThat(millis[0]).as("the first point is before the change").isNegative();
        int gap = 0;
        for (int i = 1; i < millis.length; i++) {
            if (millis[i] - millis[i - 1] > millis[gap + 1] - millis[gap]) {
                gap = i - 1;
            }
        }
        assertThat(download.interruptionMillis()).as("the measured pause").isGreaterThanOrEqualTo(50);
        assertThat(millis[gap]).as("the longest gap begins with the last read before the change").isNegative();
        assertThat(bytes[gap]).as("... which had the change's bytes").isGreaterThanOrEqualTo(Handovers.CHANGE_AT);
        assertThat(millis[gap + 1]).as("and ends when data came again, as long after the change as the pause")
                .isCloseTo(download.interruptionMillis(), within(0.01));
    }

    @Test
    void keepsAtMostOnePointAMillisecondAndOnlyTheLatestBeforeTheChange() throws Exception {
        DownloadWatch watch = new DownloadWatch(() -> now.addAndGet(20_000)); // a read takes 20 us
        long start = now.get();
        for (int i = 0; i < DownloadWatch.BEFORE_CHANGE + 80; i++) { // a read a millisecond, longer than the ring holds
            watch.data(BLOCK, 1);
            now.addAndGet(MS + 10_000);
        }
        double readingMillis = (now.get() - start) / 1e6;
        while (!watch.changeDue()) {
            watch.data(BLOCK, BLOCK.length); // fast reads up to the change: most are not kept
        }
        watch.changed();
        while (watch.received() < Handovers.TOTAL) {
            watch.data(BLOCK, BLOCK.length);
        }

        Handovers.Download download = watch.result();

        double[] millis = download.received().millis();
        int before = 0;
        for (double at : millis) {
            before += at < 0 ? 1 : 0;
        }
        assertThat(before).as("points kept from before the change").isEqualTo(DownloadWatch.BEFORE_CHANGE);
        assertThat(-millis[0]).as("the oldest kept point, in ms before the change, is not the first read's")
                .isLessThan(readingMillis);
        int after = millis.length - before;
        assertThat(after).as("points kept over the %.1f ms from the change to the end: at most one a millisecond, "
                + "and the last read", millis[millis.length - 1]).isLessThanOrEqualTo((int) millis[millis.length - 1] + 2);
    }
}
