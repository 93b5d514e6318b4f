package org.quicmigration.core.migration;

import java.util.random.RandomGenerator;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.path.PathValidation;

/**
 * One standby path of a client, sans-IO: a second path kept validated while the active one carries the data, so
 * that a move to it needs no validation first. It is probed with PATH_CHALLENGE when added, and again every
 * {@code reprobeIntervalNanos} once it answered: each probe keeps the path validated on the server (which validates
 * a path it sees probed, and may skip validation of an address "seen recently", RFC 9000 9.3) and the binding of any
 * NAT on the way alive. A probe that gets no answer within the validation timeout makes the standby
 * {@link StandbyState#FAILED}; it is probed again at the same interval, and is {@link StandbyState#READY} again once it answers.
 *
 * <p>Not thread-safe: {@link ClientMigrator} owns it.
 */
final class Standby {

    private final Tuple tuple;
    private final long reprobeIntervalNanos;
    private final long firstRetransmitNanos;
    private final long timeoutNanos;
    private final RandomGenerator random;
    private StandbyState state = StandbyState.PROBING;
    private PathValidation validation;
    /** The last validation that succeeded, for its round trip; null before the first. */
    private PathValidation lastSucceeded;
    private long nextProbeNanos = Long.MAX_VALUE;

    /**
     * @param firstRetransmitNanos when to resend an unanswered probe first (the new path's PTO)
     * @param timeoutNanos         when a probe counts as unanswered (RFC 9000 8.2.4)
     */
    Standby(Tuple tuple, long nowNanos, long reprobeIntervalNanos, long firstRetransmitNanos, long timeoutNanos,
            RandomGenerator random) {
        this.tuple = tuple;
        this.reprobeIntervalNanos = reprobeIntervalNanos;
        this.firstRetransmitNanos = firstRetransmitNanos;
        this.timeoutNanos = timeoutNanos;
        this.random = random;
        this.validation = new PathValidation(tuple, nowNanos, firstRetransmitNanos, timeoutNanos, random);
    }

    Tuple tuple() {
        return tuple;
    }

    StandbyState state() {
        return state;
    }

    /** The validation a move to this path can rely on: its last successful one, or null. */
    PathValidation lastSucceeded() {
        return lastSucceeded;
    }

    /** The round trip of the last answered probe, or -1. */
    long roundTripNanos() {
        return lastSucceeded == null ? -1 : lastSucceeded.roundTripNanos();
    }

    /** The data of a PATH_CHALLENGE to send now, or null if none is due. */
    byte[] challengeToSend(long nowNanos) {
        return validation == null ? null : validation.challengeToSend(nowNanos);
    }

    void challengeLeft(long nowNanos, byte[] data) {
        if (validation != null) {
            validation.challengeLeft(data, nowNanos);
        }
    }

    /** A PATH_RESPONSE arrived; returns true if it answered this standby's probe (it is {@link StandbyState#READY} now). */
    boolean onResponse(long nowNanos, byte[] data) {
        if (validation == null || !validation.onResponse(data, nowNanos)) {
            return false;
        }
        lastSucceeded = validation;
        validation = null;
        state = StandbyState.READY;
        nextProbeNanos = nowNanos + reprobeIntervalNanos;
        return true;
    }

    /**
     * Time passed: a probe timed out, or the next one is due.
     *
     * @return true if the state changed to {@link StandbyState#FAILED} just now
     */
    boolean onTimer(long nowNanos) {
        if (validation != null && validation.onTimer(nowNanos)) {
            validation = null;
            nextProbeNanos = nowNanos + reprobeIntervalNanos;
            boolean changed = state != StandbyState.FAILED;
            state = StandbyState.FAILED;
            return changed;
        }
        if (validation == null && nowNanos >= nextProbeNanos) {
            // A fresh validation, whose challenges carry new data (RFC 9000 8.2.1); the path stays READY meanwhile:
            // it answered one interval ago, well within what "recently" means for the server's memory.
            validation = new PathValidation(tuple, nowNanos, firstRetransmitNanos, timeoutNanos, random);
            nextProbeNanos = Long.MAX_VALUE;
        }
        return false;
    }

    /** The socket of this path failed: the OS took its address, route or link away. */
    boolean onFailed(long nowNanos) {
        validation = null;
        nextProbeNanos = nowNanos + reprobeIntervalNanos;
        boolean changed = state != StandbyState.FAILED;
        state = StandbyState.FAILED;
        return changed;
    }

    /** When {@link #onTimer} or {@link #challengeToSend} next has work, or Long.MAX_VALUE. */
    long nextTimerNanos() {
        return validation != null ? validation.nextTimerNanos() : nextProbeNanos;
    }
}
