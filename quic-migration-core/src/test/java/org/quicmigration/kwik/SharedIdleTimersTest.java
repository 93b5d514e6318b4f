package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class SharedIdleTimersTest {

    @Test
    void shuttingOneConnectionsTimerDownCancelsItsTasksOnlyAndRefusesNewOnes() throws Exception {
        SharedIdleTimers closing = new SharedIdleTimers();
        SharedIdleTimers staying = new SharedIdleTimers();
        AtomicInteger closingTicks = new AtomicInteger();
        AtomicInteger stayingTicks = new AtomicInteger();
        closing.scheduleAtFixedRate(closingTicks::incrementAndGet, 1, 1, TimeUnit.MILLISECONDS);
        staying.scheduleAtFixedRate(stayingTicks::incrementAndGet, 1, 1, TimeUnit.MILLISECONDS);
        awaitAtLeast(closingTicks, 3);

        closing.shutdownNow();
        int ticksAtShutdown = closingTicks.get();
        int stayingAtShutdown = stayingTicks.get();
        awaitAtLeast(stayingTicks, stayingAtShutdown + 3);

        assertThat(closingTicks.get()).as("at most one tick was running at the shutdown").isLessThanOrEqualTo(ticksAtShutdown + 1);
        assertThat(closing.isShutdown()).isTrue();
        assertThat(closing.scheduledTasks()).isZero();
        assertThat(staying.isShutdown()).isFalse();
        assertThat(staying.scheduledTasks()).isEqualTo(1);
        assertThatThrownBy(() -> closing.schedule(() -> { }, 1, TimeUnit.MILLISECONDS))
                .isInstanceOf(RejectedExecutionException.class);
        staying.shutdown();
    }

    @Test
    void aRescheduledTimerKeepsOnlyItsLiveTask() {
        SharedIdleTimers timers = new SharedIdleTimers();
        for (int i = 0; i < 100; i++) { // Kwik cancels and schedules again each time the idle timeout is set
            timers.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.SECONDS).cancel(false);
        }
        timers.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.SECONDS);

        assertThat(timers.scheduledTasks()).isEqualTo(1);
        timers.shutdown();
        assertThat(timers.scheduledTasks()).isZero();
    }

    @Test
    void periodicChecksStartOnTheCommonGridSoOneWakeUpServesManyConnections() {
        long grid = TimeUnit.MILLISECONDS.toNanos(SharedIdleTimers.GRID_MILLIS);
        for (long now : new long[]{-7_777_777_777L, 0, 123_456_789L, 5 * grid, 5 * grid + 1}) {
            for (long delay : new long[]{0, 1, grid - 1, grid, TimeUnit.SECONDS.toNanos(1)}) {
                long aligned = SharedIdleTimers.alignedDelayNanos(now, delay);
                assertThat(Math.floorMod(now + aligned, grid)).as("now %d, delay %d", now, delay).isZero();
                assertThat(aligned).as("never early").isGreaterThanOrEqualTo(delay).isLessThan(delay + grid);
            }
        }
        assertThat(SharedIdleTimers.roundedUpToGrid(TimeUnit.SECONDS.toNanos(1))).as("Kwik's 1 s period stays")
                .isEqualTo(TimeUnit.SECONDS.toNanos(1));
        assertThat(SharedIdleTimers.roundedUpToGrid(1)).isEqualTo(grid);
    }

    private static void awaitAtLeast(AtomicInteger counter, int value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counter.get() < value) {
            assertThat(System.nanoTime()).as("counter reached %d within 5 s", value).isLessThan(deadline);
            Thread.sleep(1); // polling interval of the condition, not synchronisation
        }
    }
}
