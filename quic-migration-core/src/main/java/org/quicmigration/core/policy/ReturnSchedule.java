package org.quicmigration.core.policy;

/**
 * When the policy next tries to return to the preferred network, and how long it has been away. A failed return is
 * tried again after {@link PolicyConfig#returnFirstRetry()}, doubling up to {@link PolicyConfig#returnMaxRetry()};
 * no return is tried more than {@link PolicyConfig#maxTimeAway()} after the connection left. Times in nanoseconds;
 * not thread-safe (the policy's caller serialises).
 */
final class ReturnSchedule {

    private static final long NONE = Long.MAX_VALUE;

    private final PolicyConfig config;
    private long atNanos = NONE;
    private long retryNanos;
    private long leftAtNanos = -1;

    ReturnSchedule(PolicyConfig config) {
        this.config = config;
        this.retryNanos = config.returnFirstRetry().toNanos();
    }

    /** A preferred network is usable now: try at once; a failure backs off from the first retry. */
    void dueNow(long nowNanos) {
        atNanos = nowNanos;
        retryNanos = config.returnFirstRetry().toNanos();
        left(nowNanos);
    }

    /** The connection left the preferred network: come back once it has had time to recover. */
    void afterLeaving(long nowNanos) {
        left(nowNanos);
        atNanos = nowNanos + config.returnFirstRetry().toNanos();
    }

    /** The return worked: nothing more to try. */
    void succeeded() {
        retryNanos = config.returnFirstRetry().toNanos();
        atNanos = NONE;
        leftAtNanos = -1;
    }

    /** The return failed: try again after the current wait, which doubles up to the maximum. */
    void failed(long nowNanos) {
        atNanos = nowNanos + retryNanos;
        retryNanos = Math.min(2 * retryNanos, config.returnMaxRetry().toNanos());
    }

    /** Nothing planned: a return started (its end plans the next), or there is nothing to return to. */
    void cancel() {
        atNanos = NONE;
    }

    boolean due(long nowNanos) {
        return nowNanos >= atNanos;
    }

    /** True if the connection left the preferred network longer ago than the policy keeps trying. */
    boolean expired(long nowNanos) {
        return leftAtNanos >= 0 && nowNanos - leftAtNanos > config.maxTimeAway().toNanos();
    }

    /** The time of the planned return if it is after {@code lastNanos}, else Long.MAX_VALUE. */
    long nextAfter(long lastNanos) {
        return atNanos > lastNanos ? atNanos : NONE;
    }

    private void left(long nowNanos) {
        leftAtNanos = leftAtNanos < 0 ? nowNanos : leftAtNanos;
    }
}
