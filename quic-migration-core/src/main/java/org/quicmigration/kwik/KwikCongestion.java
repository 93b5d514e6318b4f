package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;

import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Internal: Kwik's congestion controller and RTT estimator: their reset and restore at a move (RFC 9000 9.4). Each
 * member is looked up by name where it is declared, when the class loads; {@link KwikInternals#verify()} reports
 * any that is missing at start-up.
 */
final class KwikCongestion {

    static final Field SENDER_CONGESTION_CONTROLLER =
            KwikMembers.field(tech.kwik.core.send.SenderImpl.class, "congestionController");
    static final Field SENDER_RTT_ESTIMATOR = KwikMembers.field(tech.kwik.core.send.SenderImpl.class, "rttEstimater");
    private static final Field CC_WINDOW =
            KwikMembers.field(tech.kwik.core.cc.AbstractCongestionController.class, "congestionWindow");
    private static final Field CC_INITIAL_WINDOW =
            KwikMembers.field(tech.kwik.core.cc.AbstractCongestionController.class, "initialWindowSize");
    private static final Field CC_SLOW_START_THRESHOLD =
            KwikMembers.field(tech.kwik.core.cc.NewRenoCongestionController.class, "slowStartThreshold");
    private static final Field CC_RECOVERY_START =
            KwikMembers.field(tech.kwik.core.cc.NewRenoCongestionController.class, "congestionRecoveryStartTime");
    static final Field RTT_SMOOTHED = KwikMembers.field(tech.kwik.core.recovery.RttEstimator.class, "smoothedRtt");
    static final Field RTT_VARIANCE = KwikMembers.field(tech.kwik.core.recovery.RttEstimator.class, "rttVar");
    private static final Field RTT_MIN = KwikMembers.field(tech.kwik.core.recovery.RttEstimator.class, "minRtt");
    static final Field RTT_LATEST = KwikMembers.field(tech.kwik.core.recovery.RttEstimator.class, "latestRtt");
    private static final Field RTT_INITIAL =
            KwikMembers.field(tech.kwik.core.recovery.RttEstimator.class, "initialRtt");

    private KwikCongestion() {
    }

    /** Kwik's smoothed RTT in ms (its initial RTT before the first sample). */
    static int smoothedRttMillis(QuicConnectionImpl connection) {
        return (int) get(RTT_SMOOTHED, get(SENDER_RTT_ESTIMATOR, invoke(KwikRecovery.GET_SENDER, connection)));
    }

    /**
     * RFC 9000 9.4: after a move to a new address (not only a new port), congestion control and the RTT estimator
     * restart from their initial values, as for a new path (W22, docs/kwik-workarounds.md#w22).
     *
     * <p>First, every 1-RTT packet still in flight, all sent on the path being left, is declared lost through Kwik's
     * own loss detector: their frames are queued for retransmission at once, and their bytes leave the in-flight
     * count exactly. Otherwise what is in flight to a dead network (230 KB in a traced abrupt handover) is found
     * lost only as acknowledgements for new packets come back, a window at a time, and the reader waits on the first
     * of it. When the old path is alive, this costs at most one window of duplicate data. Zeroing the in-flight
     * count instead would not do: old packets acknowledged or lost later would be subtracted from the new path's
     * count, which Kwik clamps at 0, so the new path's window would limit nothing (a server would burst at an
     * unvalidated address beyond what its hold queue keeps).
     *
     * <p>Then the window goes back to its initial size, out of slow-start threshold and recovery (the losses just
     * declared must not count as congestion), and the RTT estimator to its initial values.
     *
     * <p>The RTT estimator gets explicit initial values (smoothed_rtt = initial RTT, rttvar = initial RTT / 2, as
     * RFC 9002 5.3 and 6.2.2 prescribe before the first sample) rather than Kwik's "no sample yet" marker. With the
     * marker, Kwik takes the next sample as smoothed_rtt verbatim; on a sub-millisecond path that sample is 0 ms,
     * and Kwik's loss detector then computes a loss delay of 0: with assertions on it throws AssertionError on its
     * thread, without them every packet is deemed lost at once. Measured: with the marker, 3 to 4 of 6 migrations
     * during a 20 MB echo froze both ends that way; with explicit values, 0 of 6.
     */
    static void resetRecovery(QuicConnectionImpl connection, DeclaredLosses losses) {
        Object sender = invoke(KwikRecovery.GET_SENDER, connection);
        KwikRecovery.declareLostSentBefore(sender, null, losses);
        Object cc = get(SENDER_CONGESTION_CONTROLLER, sender);
        if (CC_SLOW_START_THRESHOLD.getDeclaringClass().isInstance(cc)) {
            synchronized (cc) {
                set(CC_WINDOW, cc, (long) (int) get(CC_INITIAL_WINDOW, null));
                set(CC_SLOW_START_THRESHOLD, cc, Long.MAX_VALUE);
                // The reset starts a recovery period (never null: Kwik compares send times with it). Kwik counts a
                // lost packet as a congestion event only if it was sent after that start, so the packets left on the
                // old path, declared lost during the next round trips, do not halve the new path's window and end
                // its slow start: they are the old path's loss, not the new path's congestion.
                set(CC_RECOVERY_START, cc, java.time.Instant.now());
            }
        }
        Object rtt = get(SENDER_RTT_ESTIMATOR, sender);
        int initial = (int) get(RTT_INITIAL, rtt);
        set(RTT_SMOOTHED, rtt, initial);
        set(RTT_VARIANCE, rtt, initial / 2);
        set(RTT_MIN, rtt, Integer.MAX_VALUE);
        set(RTT_LATEST, rtt, 0);
        // The probe-timeout backoff belongs to the path left behind: on the new path it starts again.
        set(KwikRecovery.RECOVERY_PTO_COUNT, get(KwikRecovery.SENDER_RECOVERY_MANAGER, sender), 0);
    }

    /**
     * Starts a new recovery period now (W22, docs/kwik-workarounds.md#w22), for a path whose congestion state
     * {@link #resetRecovery} reset: packets sent
     * before now on the path left behind (built with its connection ID in the moment of the move, so they can only
     * go there, RFC 9000 9.5) are lost for certain, and Kwik would take each such loss for congestion on the new
     * path, halve its window and end its slow start. Kwik starts a congestion event only for a loss of a packet sent
     * after the recovery period's start.
     */
    static void startRecoveryPeriod(QuicConnectionImpl connection) {
        Object cc = get(SENDER_CONGESTION_CONTROLLER, invoke(KwikRecovery.GET_SENDER, connection));
        if (CC_RECOVERY_START.getDeclaringClass().isInstance(cc)) {
            synchronized (cc) {
                set(CC_RECOVERY_START, cc, java.time.Instant.now());
            }
        }
    }

    /**
     * Takes the round trip of the new path's validation as its first RTT sample, if Kwik has taken none since
     * {@link #resetRecovery} (W22, docs/kwik-workarounds.md#w22). Without it the new path runs on Kwik's initial RTT (500 ms: a probe timeout of about
     * 1.5 s) until an acknowledgement of a packet sent there arrives, and data stranded on a dead network is resent
     * only at that timeout. The PATH_CHALLENGE and its PATH_RESPONSE travelled the new path: a real sample of it.
     */
    static void seedRttFromValidation(QuicConnectionImpl connection, long roundTripNanos) {
        Object rtt = get(SENDER_RTT_ESTIMATOR, invoke(KwikRecovery.GET_SENDER, connection));
        if ((int) get(RTT_LATEST, rtt) != 0 || roundTripNanos <= 0) {
            return; // an acknowledgement on the new path measured it already
        }
        // At least 1 ms: a 0 ms RTT makes Kwik's loss delay 0 (see resetRecovery).
        int millis = (int) Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(roundTripNanos));
        set(RTT_SMOOTHED, rtt, millis);
        set(RTT_VARIANCE, rtt, Math.max(1, millis / 2));
        set(RTT_MIN, rtt, millis);
        set(RTT_LATEST, rtt, millis);
    }

    /**
     * W23 (docs/kwik-workarounds.md#w23): after a NAT rebinding is validated (only the client's port changed), declares lost
     * the 1-RTT packets still in flight that were sent before {@code moved}, to the old binding, and keeps congestion control as it was (RFC
     * 9000 9.4 lets a port-only change keep it; those losses are the binding's, not congestion), but never below a
     * new path's start (RFC 9002 7.2's initial window, in slow start). Done at validation, not at the move: resending
     * at the move, behind the new binding's anti-amplification budget, made a single rebinding's handover slower
     * (141-177 ms against 96-101 ms at 25 ms each way). Without it, with a rebinding every 300 ms at 25 ms each way,
     * packets sent to dead bindings stay "in flight" for good (25-30 KB against a 3 KB window), as nothing after
     * them is acknowledged, and the download stops.
     */
    static void resendSentBefore(QuicConnectionImpl connection, java.time.Instant moved,
                                 CongestionSnapshot congestionAtMove, DeclaredLosses losses) {
        Object sender = invoke(KwikRecovery.GET_SENDER, connection);
        Object cc = get(SENDER_CONGESTION_CONTROLLER, sender);
        if (!CC_SLOW_START_THRESHOLD.getDeclaringClass().isInstance(cc)) {
            KwikRecovery.declareLostSentBefore(sender, moved, losses);
            return;
        }
        CongestionSnapshot before = congestionAtMove != null ? congestionAtMove : congestionState(connection);
        KwikRecovery.declareLostSentBefore(sender, moved, losses);
        long initialWindow = (long) (int) get(CC_INITIAL_WINDOW, null);
        synchronized (cc) {
            long window = Math.max(before.window(), (long) get(CC_WINDOW, cc));
            boolean belowStart = window < initialWindow;
            set(CC_WINDOW, cc, belowStart ? initialWindow : window);
            set(CC_SLOW_START_THRESHOLD, cc, belowStart ? Long.MAX_VALUE : before.slowStartThreshold());
            set(CC_RECOVERY_START, cc, before.recoveryStart());
        }
    }

    /**
     * W36 (docs/kwik-workarounds.md#w36): the active path's network is back after an outage the connection sat out
     * on it. Kwik doubled its probe timeout at every probe the outage swallowed, so its next try can be seconds
     * away (measured: data resumed about 3 s after the address returned, after 3 s without it). This resends now
     * what is in flight (it never arrived; congestion control stays as it was, as for {@link #resendSentBefore}),
     * starts the probe timeouts from one PTO again and sends a PING with every ACK range, so that the peer learns
     * what arrived before the outage and the path is heard from at once.
     */
    static void resumeAfterOutage(QuicConnectionImpl connection, DeclaredLosses losses) {
        Object sender = invoke(KwikRecovery.GET_SENDER, connection);
        set(KwikRecovery.RECOVERY_PTO_COUNT, get(KwikRecovery.SENDER_RECOVERY_MANAGER, sender), 0);
        resendSentBefore(connection, java.time.Instant.now(), null, losses);
        KwikAcks.acknowledgeAllInNextPacket(connection);
        connection.send(new tech.kwik.core.frame.PingFrame(), lost -> { }, true);
    }

    /**
     * The congestion controller's window, slow-start threshold and recovery start, for {@link #resendSentBefore}
     * (W23):
     * taken when the server moves to a NAT-rebound address, before Kwik's own loss detection (once acknowledgements
     * come back on the new binding) halves the window for the packets the old binding swallowed. A trace of a
     * download rebound every 300 ms at 25 ms each way showed that halving once per rebinding, the window never
     * recovering. Null if the controller is not Kwik's NewReno.
     */
    static CongestionSnapshot congestionState(QuicConnectionImpl connection) {
        Object cc = get(SENDER_CONGESTION_CONTROLLER, invoke(KwikRecovery.GET_SENDER, connection));
        if (!CC_SLOW_START_THRESHOLD.getDeclaringClass().isInstance(cc)) {
            return null;
        }
        synchronized (cc) {
            return new CongestionSnapshot((long) get(CC_WINDOW, cc), (long) get(CC_SLOW_START_THRESHOLD, cc),
                    (java.time.Instant) get(CC_RECOVERY_START, cc));
        }
    }

    /** Kwik's NewReno state: window and slow-start threshold in bytes, and when its recovery period started. */
    record CongestionSnapshot(long window, long slowStartThreshold, java.time.Instant recoveryStart) {
    }

    /**
     * W3 (docs/kwik-workarounds.md#w3): keeps Kwik's smoothed RTT at 1 ms or more. Kwik rounds RTT samples to whole milliseconds; on loopback the
     * first sample can be 0 ms, and Kwik's smoothing ({@code (7 * srtt + sample + 4) / 8}) then stays at 0 until a
     * sample of 4 ms or more arrives. Kwik's loss detector computes its time threshold as 9/8 of that without
     * RFC 9002's floor of kGranularity (6.1.2: "max(kTimeThreshold * max(smoothed_rtt, latest_rtt),
     * kGranularity)"), so it becomes 0 ms: with assertions enabled Kwik's {@code assert lossDelay > 0} kills its
     * loss-detection timer task or its receiver thread and the connection freezes (seen in 1 to 2 of 1,000
     * transfers through a lossy relay); without assertions every unacknowledged packet counts as lost at once.
     * Kwik runs loss detection for an ACK before adding that ACK's RTT sample, so checking before every received
     * packet is processed (the frame observer does, on Kwik's receiving thread) closes the window completely. Once
     * at 1 ms, Kwik's rounding keeps it there.
     */
    static void keepRttAboveZero(QuicConnectionImpl connection) {
        keepRttAboveZero(rttEstimator(connection));
    }

    /** As {@link #keepRttAboveZero(QuicConnectionImpl)}, without lookups or allocation: safe per packet. */
    static void keepRttAboveZero(Object rttEstimator) {
        try {
            if (RTT_SMOOTHED.getInt(rttEstimator) == 0) {
                RTT_SMOOTHED.setInt(rttEstimator, 1);
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot access Kwik's RTT estimator", e);
        }
    }

    /** For tests: a 0 ms RTT estimate, as a first sample of 0 ms leaves it (W3). */
    static void zeroRtt(Object rttEstimator) {
        set(RTT_SMOOTHED, rttEstimator, 0);
        set(RTT_VARIANCE, rttEstimator, 0);
        set(RTT_LATEST, rttEstimator, 0);
    }

    /** The connection's RTT estimator, to hand to {@link #keepRttAboveZero(Object)} on hot paths. */
    static Object rttEstimator(QuicConnectionImpl connection) {
        return get(SENDER_RTT_ESTIMATOR, invoke(KwikRecovery.GET_SENDER, connection));
    }

    /** The congestion window and the bytes in flight, in bytes. */
    static long[] congestionWindowAndBytesInFlight(QuicConnectionImpl connection) {
        tech.kwik.core.cc.CongestionController cc = (tech.kwik.core.cc.CongestionController)
                get(SENDER_CONGESTION_CONTROLLER, invoke(KwikRecovery.GET_SENDER, connection));
        return new long[]{cc.getWindowSize(), cc.getBytesInFlight()};
    }
}
