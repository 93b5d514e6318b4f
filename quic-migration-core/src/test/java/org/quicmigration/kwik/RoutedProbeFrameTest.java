package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class RoutedProbeFrameTest {

    private static final byte[] DATA = {1, 2, 3, 4, 5, 6, 7, 8};
    private static final int ID_LENGTH = 8;

    @Test
    void aFrameSizedWhenSentTakesTheBudgetThePathHasWhenItsPacketIsBuilt() {
        // Queued when the path's first datagram, 32 bytes, allowed 96; built after its 1200-byte challenge arrived.
        AtomicLong budget = new AtomicLong(3 * 32);
        RoutedProbeFrame frame = RoutedProbeFrame.sizedWhenSent(RoutedProbeFrame.PATH_CHALLENGE, DATA, ID_LENGTH,
                budget::get, null);
        budget.set(3 * (32 + 1200));

        assertThat(frame.fillsMinimumDatagram(ID_LENGTH)).as("a 1200-byte datagram (RFC 9000 8.2.1)").isTrue();
        budget.set(0);
        assertThat(frame.getFrameLength()).as("fixed once Kwik has read it").isGreaterThan(1100);
    }

    @Test
    void aFrameSizedWhenSentStaysWithinASmallBudget() {
        RoutedProbeFrame frame = RoutedProbeFrame.sizedWhenSent(RoutedProbeFrame.PATH_RESPONSE, DATA, ID_LENGTH,
                () -> 3 * 40, null);

        assertThat(frame.fillsMinimumDatagram(ID_LENGTH)).isFalse();
        assertThat(frame.getFrameLength() + 1 + ID_LENGTH + 4 + 16).as("its datagram within the budget")
                .isLessThanOrEqualTo(3 * 40);
    }

    @Test
    void aFrameSizedWhenQueuedKeepsThatSize() {
        RoutedProbeFrame frame = RoutedProbeFrame.sized(RoutedProbeFrame.PATH_CHALLENGE, DATA, ID_LENGTH, 96, null);

        assertThat(frame.fillsMinimumDatagram(ID_LENGTH)).isFalse();
        assertThat(frame.resealedWith(new byte[ID_LENGTH]).getFrameLength()).isEqualTo(frame.getFrameLength());
    }
}
