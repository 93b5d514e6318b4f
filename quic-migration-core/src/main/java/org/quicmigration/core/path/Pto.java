package org.quicmigration.core.path;

import java.time.Duration;

/**
 * Probe timeout arithmetic from RFC 9002 6.2.1: {@code PTO = smoothed_rtt + max(4 * rttvar, kGranularity) +
 * max_ack_delay}, and for a path without samples the initial RTT of 333 ms (RFC 9002 6.2.2).
 */
public final class Pto {

    /** RFC 9002 6.2.2: "kInitialRtt ... The RECOMMENDED value is 333 milliseconds." */
    public static final Duration INITIAL_RTT = Duration.ofMillis(333);
    /** RFC 9002 6.1.2: "The RECOMMENDED value of the timer granularity (kGranularity) is 1 millisecond." */
    public static final Duration GRANULARITY = Duration.ofMillis(1);

    private Pto() {
    }

    public static Duration of(Duration smoothedRtt, Duration rttVariance, Duration maxAckDelay) {
        Duration variance = rttVariance.multipliedBy(4);
        return smoothedRtt.plus(variance.compareTo(GRANULARITY) > 0 ? variance : GRANULARITY).plus(maxAckDelay);
    }

    /** The PTO of a path with no RTT sample: smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2. */
    public static Duration initial(Duration maxAckDelay) {
        return of(INITIAL_RTT, INITIAL_RTT.dividedBy(2), maxAckDelay);
    }

    /**
     * RFC 9000 8.2.4: "endpoints SHOULD abandon path validation based on a timer. When setting this timer,
     * implementations are cautioned that the new path could have a longer round-trip time than the original. A
     * value of three times the larger of the current PTO or the PTO for the new path (using kInitialRtt, as
     * defined in [QUIC-RECOVERY]) is RECOMMENDED."
     */
    public static Duration validationTimeout(Duration currentPathPto, Duration maxAckDelay) {
        Duration newPathPto = initial(maxAckDelay);
        return (currentPathPto.compareTo(newPathPto) > 0 ? currentPathPto : newPathPto).multipliedBy(3);
    }
}
