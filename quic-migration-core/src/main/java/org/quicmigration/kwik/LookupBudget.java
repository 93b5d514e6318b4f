package org.quicmigration.kwik;

/**
 * Internal: a token bucket refilled continuously, for the server socket's lookups of connection IDs it has not seen
 * before (see {@link ServerPathSocket}); used by the receive thread only.
 */
final class LookupBudget {

    private final int perSecond;
    private double tokens;
    private long lastNanos;

    LookupBudget(int perSecond) {
        this.perSecond = perSecond;
        this.tokens = perSecond;
        this.lastNanos = System.nanoTime();
    }

    boolean tryAcquire(long nowNanos) {
        tokens = Math.min(perSecond, tokens + (nowNanos - lastNanos) * perSecond / 1e9);
        lastNanos = nowNanos;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }
}
