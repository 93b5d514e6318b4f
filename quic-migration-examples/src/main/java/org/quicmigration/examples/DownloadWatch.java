package org.quicmigration.examples;

import java.security.MessageDigest;

/**
 * Watches one of {@link Handovers}' downloads: digests it, notes when the change happened and the longest pause
 * after it, and keeps the received bytes over time around the change in arrays allocated up front: a point at most
 * every millisecond, plus the last read before each pause longer than that, so a chart shows every pause where it
 * was. Used by one reading thread.
 */
final class DownloadWatch {
    /** How many points are kept from before the change (a ring: the latest ones), about 1 ms apart. */
    static final int BEFORE_CHANGE = 128;
    /** At most this many points are kept from the change on. */
    static final int AFTER_CHANGE = 4096;
    private static final long POINT_NANOS = 1_000_000;

    private final MessageDigest digest;
    private long received;
    private long changeNanos = -1;
    private long lastDataNanos;
    private long longestPauseNanos;
    // received over time: [0, BEFORE_CHANGE) a ring until the change, then [BEFORE_CHANGE, ...) in order
    private final long[] pointNanos = new long[BEFORE_CHANGE + AFTER_CHANGE];
    private final long[] pointBytes = new long[BEFORE_CHANGE + AFTER_CHANGE];
    private int pointsBefore;
    private int pointsAfter;
    private long previousReadNanos;
    private long previousReadBytes;
    private boolean previousReadKept = true;

    private final java.util.function.LongSupplier clock;

    DownloadWatch() throws Exception {
        this(System::nanoTime);
    }

    /** A watch reading time from {@code clock} (nanoseconds), for tests in virtual time. */
    DownloadWatch(java.util.function.LongSupplier clock) throws Exception {
        this.clock = clock;
        digest = MessageDigest.getInstance("SHA-256");
    }

    void data(byte[] buffer, int n) {
        long now = clock.getAsLong();
        if (changeNanos >= 0) {
            longestPauseNanos = Math.max(longestPauseNanos, now - lastDataNanos);
        }
        long previousNanos = lastDataNanos;
        lastDataNanos = now;
        digest.update(buffer, 0, n);
        received += n;
        keepPoint(now, previousNanos);
    }

    private void keepPoint(long now, long previousNanos) {
        boolean any = pointsBefore + pointsAfter > 0;
        if (any && now - lastPointNanos() < POINT_NANOS) {
            rememberRead(now, false);
            return;
        }
        if (any && now - previousNanos >= POINT_NANOS) {
            keepPreviousRead(); // where the pause began
        }
        addPoint(now, received);
        rememberRead(now, true);
    }

    private void rememberRead(long nanos, boolean kept) {
        previousReadNanos = nanos;
        previousReadBytes = received;
        previousReadKept = kept;
    }

    private void keepPreviousRead() {
        if (!previousReadKept && pointsBefore + pointsAfter > 0) {
            addPoint(previousReadNanos, previousReadBytes);
            previousReadKept = true;
        }
    }

    private long lastPointNanos() {
        return pointsAfter > 0 ? pointNanos[BEFORE_CHANGE + pointsAfter - 1]
                : pointNanos[(pointsBefore - 1) % BEFORE_CHANGE];
    }

    private void addPoint(long nanos, long bytes) {
        int index;
        if (changeNanos < 0) {
            index = pointsBefore++ % BEFORE_CHANGE;
        } else if (pointsAfter < AFTER_CHANGE) {
            index = BEFORE_CHANGE + pointsAfter++;
        } else {
            return; // full: the chart ends here
        }
        pointNanos[index] = nanos;
        pointBytes[index] = bytes;
    }

    long received() {
        return received;
    }

    /** True once the change has happened. */
    boolean hasChanged() {
        return changeNanos >= 0;
    }

    boolean changeDue() {
        return changeNanos < 0 && received >= Handovers.CHANGE_AT;
    }

    void changed() {
        keepPreviousRead(); // the last read before the change
        changeNanos = clock.getAsLong();
        lastDataNanos = changeNanos; // the pause counts from the change
    }

    Handovers.Download result() {
        return new Handovers.Download(digest.digest(), longestPauseNanos / 1e6, receivedOverTime());
    }

    private Handovers.Received receivedOverTime() {
        keepPreviousRead(); // the last read
        int before = Math.min(pointsBefore, BEFORE_CHANGE);
        double[] millis = new double[before + pointsAfter];
        long[] bytes = new long[before + pointsAfter];
        int first = pointsBefore > BEFORE_CHANGE ? pointsBefore % BEFORE_CHANGE : 0;
        long zero = changeNanos >= 0 ? changeNanos : pointNanos[first];
        for (int i = 0; i < millis.length; i++) {
            int index = i < before ? (pointsBefore - before + i) % BEFORE_CHANGE : BEFORE_CHANGE + i - before;
            millis[i] = (pointNanos[index] - zero) / 1e6;
            bytes[i] = pointBytes[index];
        }
        return new Handovers.Received(millis, bytes);
    }
}
