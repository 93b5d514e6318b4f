package org.quicmigration.core.path;

import java.util.Arrays;
import java.util.random.RandomGenerator;

import org.quicmigration.core.Tuple;

/**
 * One path validation (RFC 9000 8.2): PATH_CHALLENGE frames with fresh unpredictable data, retransmitted with
 * exponential backoff, until a matching PATH_RESPONSE arrives or the validation timer expires. Pure state: the
 * caller sends what {@link #challengeToSend} hands out and reports responses and timer expiries.
 *
 * <p>Not thread-safe.
 */
public final class PathValidation {

    /** RFC 9000 8.2.1: "The endpoint MUST use unpredictable data in every PATH_CHALLENGE frame". */
    public static final int DATA_LENGTH = 8;
    /** Outstanding challenges remembered; a response to any of them validates the path. */
    private static final int REMEMBERED = 8;

    /** Where a validation stands. */
    public enum Status { PENDING, SUCCEEDED, FAILED }

    private final Tuple tuple;
    private final RandomGenerator random;
    private final long startNanos;
    private final long deadlineNanos;
    private final byte[][] sentData = new byte[REMEMBERED][];
    private final long[] sentAtNanos = new long[REMEMBERED];
    private int sentCount;
    private long retransmitIntervalNanos;
    private long nextSendNanos;
    private Status status = Status.PENDING;
    private long roundTripNanos = -1;
    private boolean anyLeft;

    /**
     * @param tuple                    the path being validated
     * @param nowNanos                 the start time
     * @param firstRetransmitNanos     when to resend the first challenge if unanswered (the new path's PTO)
     * @param timeoutNanos             when to give up ({@link Pto#validationTimeout})
     */
    public PathValidation(Tuple tuple, long nowNanos, long firstRetransmitNanos, long timeoutNanos, RandomGenerator random) {
        this.tuple = tuple;
        this.random = random;
        this.startNanos = nowNanos;
        this.deadlineNanos = nowNanos + timeoutNanos;
        this.retransmitIntervalNanos = firstRetransmitNanos;
        this.nextSendNanos = nowNanos;
    }

    public Tuple tuple() {
        return tuple;
    }

    public Status status() {
        return status;
    }

    /**
     * The data of a challenge to send now, or null if none is due. Every call that returns data counts as a
     * transmission; each transmission carries new data (RFC 9000 8.2.1).
     */
    public byte[] challengeToSend(long nowNanos) {
        if (status != Status.PENDING || nowNanos < nextSendNanos) {
            return null;
        }
        byte[] data = new byte[DATA_LENGTH];
        random.nextBytes(data);
        int slot = sentCount % REMEMBERED;
        sentData[slot] = data;
        sentAtNanos[slot] = nowNanos;
        sentCount++;
        nextSendNanos = nowNanos + retransmitIntervalNanos;
        // RFC 9000 8.2.1: "An endpoint SHOULD NOT probe a new path with packets containing a PATH_CHALLENGE frame
        // more frequently than it would send an Initial packet" — so back off as Initial retransmissions do.
        retransmitIntervalNanos *= 2;
        return data.clone();
    }

    /**
     * The challenge carrying {@code data} actually left at {@code nowNanos} (a challenge is decided before it is
     * sent, and the sending may wait behind other work): its round trip is measured from then.
     *
     * @return true if {@code data} is an outstanding challenge of this validation
     */
    public boolean challengeLeft(byte[] data, long nowNanos) {
        for (int i = 0; i < Math.min(sentCount, REMEMBERED); i++) {
            if (Arrays.equals(sentData[i], data)) {
                sentAtNanos[i] = Math.max(sentAtNanos[i], nowNanos);
                anyLeft = true;
                return true;
            }
        }
        return false;
    }

    /** Whether one of this validation's challenges has left (see {@link #challengeLeft}). */
    public boolean challengeHasLeft() {
        return anyLeft;
    }

    /**
     * Processes a PATH_RESPONSE. RFC 9000 8.2.3: "Path validation succeeds when a PATH_RESPONSE frame is received
     * that contains the data that was sent in a previous PATH_CHALLENGE frame. A PATH_RESPONSE frame received on
     * any network path validates the path on which the PATH_CHALLENGE was sent."
     *
     * @return true if the response matched an outstanding challenge and validated the path just now
     */
    public boolean onResponse(byte[] data, long nowNanos) {
        if (status != Status.PENDING) {
            return false;
        }
        for (int i = 0; i < Math.min(sentCount, REMEMBERED); i++) {
            if (Arrays.equals(sentData[i], data)) {
                status = Status.SUCCEEDED;
                roundTripNanos = nowNanos - sentAtNanos[i];
                return true;
            }
        }
        return false;
    }

    /** Fails the validation if its deadline has passed; returns true if it failed just now. */
    public boolean onTimer(long nowNanos) {
        if (status == Status.PENDING && nowNanos >= deadlineNanos) {
            status = Status.FAILED;
            return true;
        }
        return false;
    }

    /** The next time {@link #challengeToSend} or {@link #onTimer} has work, or Long.MAX_VALUE when done. */
    public long nextTimerNanos() {
        return status == Status.PENDING ? Math.min(nextSendNanos, deadlineNanos) : Long.MAX_VALUE;
    }

    public long deadlineNanos() {
        return deadlineNanos;
    }

    public long startNanos() {
        return startNanos;
    }

    /** Time from the answered challenge to its response, or -1 if not validated. */
    public long roundTripNanos() {
        return roundTripNanos;
    }

    /** How many challenges were sent. */
    public int challengesSent() {
        return sentCount;
    }
}
