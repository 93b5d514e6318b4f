package org.quicmigration.kwik;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Internal: what one connection's idle timer runs on instead of a thread of its own.
 *
 * <p>W9 (docs/kwik-workarounds.md#w9): Kwik 0.10.9 gives every connection's idle timer a single-thread scheduler that wakes
 * once a second. Measured on 2 cores with JDK 17: such wake-ups cost about 0.2 ms of CPU each when thousands of threads exist, so
 * 5,000 idle connections kept a whole core busy checking their idle timers, and a server with 3,000 to 4,000
 * connections open could no longer finish new handshakes within 30 s. An instance of this class stands in for one
 * connection's scheduler ({@link KwikAcks#shareIdleTimer}); all instances run their tasks on one shared daemon
 * thread. Idle checks are short and do not block (on expiry Kwik closes the connection silently: it clears queues and
 * hands the event to its callback thread). Their periodic checks run on a common grid, so the thread wakes a few
 * times a second, not once per connection and second.
 *
 * <p>Shutting an instance down cancels that connection's tasks only; the shared thread lives with the process.
 */
final class SharedIdleTimers extends java.util.concurrent.AbstractExecutorService implements ScheduledExecutorService {

    private static final ScheduledThreadPoolExecutor SHARED = shared();

    private final Set<Future<?>> scheduled = ConcurrentHashMap.newKeySet();
    private volatile boolean shutdown;

    private static ScheduledThreadPoolExecutor shared() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "quic-migration-idle-timers");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true); // a closed connection's periodic check leaves the queue at once
        return executor;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        checkOpen();
        return track(SHARED.schedule(command, delay, unit));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        checkOpen();
        return track(SHARED.schedule(callable, delay, unit));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        checkOpen();
        return track(SHARED.scheduleAtFixedRate(command, alignedDelayNanos(System.nanoTime(), unit.toNanos(initialDelay)),
                roundedUpToGrid(unit.toNanos(period)), TimeUnit.NANOSECONDS));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        checkOpen();
        return track(SHARED.scheduleWithFixedDelay(command, alignedDelayNanos(System.nanoTime(), unit.toNanos(initialDelay)),
                unit.toNanos(delay), TimeUnit.NANOSECONDS));
    }

    /**
     * Periodic checks start on a common grid of {@value #GRID_MILLIS} ms, so the shared thread wakes at most
     * 1000 / {@value #GRID_MILLIS} times a second however many connections there are: it runs every check due at a
     * grid point in one go. Each wake-up of a thread was what cost (see the class comment); this way a check costs
     * little more than the check. Kwik's idle timer checks once a second, so the grid adds at most a tenth of its
     * resolution.
     */
    static final long GRID_MILLIS = 100;
    private static final long GRID_NANOS = TimeUnit.MILLISECONDS.toNanos(GRID_MILLIS);

    /** The delay from {@code nowNanos} to the first grid point at least {@code delayNanos} away. */
    static long alignedDelayNanos(long nowNanos, long delayNanos) {
        return Math.floorDiv(nowNanos + Math.max(0, delayNanos) + GRID_NANOS - 1, GRID_NANOS) * GRID_NANOS - nowNanos;
    }

    static long roundedUpToGrid(long periodNanos) {
        return Math.max(1, (periodNanos + GRID_NANOS - 1) / GRID_NANOS) * GRID_NANOS;
    }

    @Override
    public void execute(Runnable command) {
        checkOpen();
        SHARED.execute(command);
    }

    /** Cancels this connection's tasks; the shared thread goes on serving the others. */
    @Override
    public void shutdown() {
        shutdown = true;
        for (Future<?> task : scheduled) {
            task.cancel(false);
        }
        scheduled.clear();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return shutdown;
    }

    /** How many of this connection's tasks are scheduled (for tests). */
    int scheduledTasks() {
        scheduled.removeIf(Future::isDone);
        return scheduled.size();
    }

    private void checkOpen() {
        if (shutdown) {
            throw new RejectedExecutionException("idle timer of a closed connection");
        }
    }

    private <F extends Future<?>> F track(F task) {
        scheduled.removeIf(Future::isDone); // Kwik cancels and reschedules when the idle timeout is set again
        scheduled.add(task);
        if (shutdown) {
            task.cancel(false); // shut down while this was being scheduled
        }
        return task;
    }
}
