package org.quicmigration.core.policy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * The network-change policy's standby path: the network it is on, whether one is asked for and not reported yet, and
 * when a refused one may be asked for again; and the one rule that moves it to the network the policy wants it on.
 * Not thread-safe: the policy's caller serialises all calls.
 */
final class StandbySteering {

    /** How long to wait before asking again for a standby that was refused (no spare connection ID yet, say). */
    static final long RETRY_NANOS = 500_000_000L;

    private InetAddress standby;
    private boolean asked;
    private long retryAtNanos = Long.MIN_VALUE;

    /** The standby asked for exists now on {@code local}; or, with null, there is none any more. */
    void reported(InetAddress local) {
        standby = local;
        asked = false;
    }

    /** The standby asked for could not start; it is asked for again after {@link #RETRY_NANOS}. */
    void refused(long nowNanos) {
        asked = false;
        retryAtNanos = nowNanos + RETRY_NANOS;
    }

    boolean exists() {
        return standby != null;
    }

    /** When a standby may be asked for again after a refusal or a drop. */
    long retryAtNanos() {
        return retryAtNanos;
    }

    /**
     * Drops a standby that is not on {@code wanted} (if {@code mayDrop}), or asks for one on {@code wanted} if there is
     * none and none is asked for yet (if {@code mayAsk}).
     */
    void steer(InetAddress wanted, Duration probeInterval, boolean mayDrop, boolean mayAsk, long nowNanos,
               List<PolicyAction> actions) {
        if (standby != null && !standby.equals(wanted)) {
            if (mayDrop) {
                actions.add(new PolicyAction.DropStandby(standby));
                standby = null;
                retryAtNanos = nowNanos; // a new one as soon as the dropped one's connection ID is replaced
            }
            return;
        }
        if (standby == null && wanted != null && !asked && mayAsk) {
            asked = true;
            actions.add(new PolicyAction.KeepStandby(wanted, probeInterval));
        }
    }
}
