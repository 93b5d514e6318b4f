package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Internal: Kwik's acknowledgements and idle timer: what the binding changes in how and when Kwik acknowledges and
 * times out. Each member is looked up by name where it is declared, when the class loads; {@link
 * KwikInternals#verify()} reports any that is missing at start-up.
 */
final class KwikAcks {

    private static final Field IDLE_TIMER_EXECUTOR = KwikMembers.field(tech.kwik.core.impl.IdleTimer.class, "timer");
    private static final Method IDLE_TIMER_ENABLED =
            KwikMembers.method(tech.kwik.core.impl.IdleTimer.class, "isEnabled");
    private static final Method IDLE_TIMER_GET_TIMEOUT =
            KwikMembers.method(tech.kwik.core.impl.IdleTimer.class, "getIdleTimeout");
    private static final Method IDLE_TIMER_SET_TIMEOUT =
            KwikMembers.method(tech.kwik.core.impl.IdleTimer.class, "setIdleTimeout", long.class);
    private static final Field SENDER_ACK_GENERATOR =
            KwikMembers.field(tech.kwik.core.send.SenderImpl.class, "globalAckGenerator");
    private static final Field ACK_GENERATOR_RTT =
            KwikMembers.field(tech.kwik.core.ack.AckGenerator.class, "rttProvider");
    private static final Field ACK_NEW_PACKETS =
            KwikMembers.field(tech.kwik.core.ack.AckGenerator.class, "newPacketsToAcknowledge");
    private static final Field ACK_NEW_PACKETS_SINCE =
            KwikMembers.field(tech.kwik.core.ack.AckGenerator.class, "newPacketsToAcknowlegdeSince");

    private KwikAcks() {
    }

    /**
     * W9 (docs/kwik-workarounds.md#w9): moves the connection's idle timer from the thread Kwik started for it to the shared
     * idle-timer thread ({@link SharedIdleTimers}), and ends Kwik's thread. Call once the handshake is complete: Kwik sets the idle
     * timeout, and starts that thread, when the peer's transport parameters arrive. The timeout and what happens when
     * it expires stay Kwik's. Nothing to do if the connection has no idle timeout.
     */
    static void shareIdleTimer(QuicConnectionImpl connection) {
        tech.kwik.core.impl.IdleTimer idleTimer = connection.getIdleTimer();
        java.util.concurrent.ScheduledExecutorService own =
                (java.util.concurrent.ScheduledExecutorService) get(IDLE_TIMER_EXECUTOR, idleTimer);
        if (own instanceof SharedIdleTimers || !(Boolean) invoke(IDLE_TIMER_ENABLED, idleTimer)) {
            return;
        }
        SharedIdleTimers shared = new SharedIdleTimers();
        try {
            IDLE_TIMER_EXECUTOR.set(idleTimer, shared); // a final field; Kwik's class is not a record, so this is allowed
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot replace Kwik's idle timer thread", e);
        }
        // Setting the same timeout again cancels the task on Kwik's scheduler and schedules it on the shared one.
        invoke(IDLE_TIMER_SET_TIMEOUT, idleTimer, (Long) invoke(IDLE_TIMER_GET_TIMEOUT, idleTimer));
        own.shutdownNow();
    }

    /**
     * The round trip below which Kwik's PING-with-ACK rule is not applied; see {@link #stopPingPongWhenIdle}. Twice
     * Kwik's max_ack_delay (25 ms): the interval at which two idle Kwik endpoints answer each other.
     */
    static final int MIN_RTT_FOR_ACK_PINGS_MILLIS = 50;

    /**
     * Makes the next 1-RTT packet carry an ACK frame of every range not yet known to be acknowledged (W35,
     * docs/kwik-workarounds.md#w35). Kwik puts an ACK only in a packet built after new ack-eliciting packets arrived;
     * at a move away from a dead network the last ACKs it sent were lost there, so the first packets on the new path
     * told the server nothing of what had arrived, and the server's first resends after its recovery reset
     * (RFC 9000 9.4) carried data the client already had: one round trip more before the first missing byte.
     */
    static void acknowledgeAllInNextPacket(QuicConnectionImpl connection) {
        if (markEveryRangeUnacknowledged(connection)) {
            ((tech.kwik.core.send.SenderImpl) invoke(KwikRecovery.GET_SENDER, connection))
                    .sendAck(tech.kwik.core.common.PnSpace.App, 0);
        }
    }

    /**
     * Makes the next 1-RTT packet Kwik builds for any reason carry every ACK range not yet known to be acknowledged,
     * without asking for a packet of its own (W35).
     *
     * @return false if there is nothing to acknowledge
     */
    static boolean markEveryRangeUnacknowledged(QuicConnectionImpl connection) {
        Object sender = invoke(KwikRecovery.GET_SENDER, connection);
        tech.kwik.core.ack.GlobalAckGenerator global = (tech.kwik.core.ack.GlobalAckGenerator)
                get(SENDER_ACK_GENERATOR, sender);
        tech.kwik.core.ack.AckGenerator app = global.getAckGenerator(tech.kwik.core.common.PnSpace.App);
        synchronized (app) {
            if (!app.hasAckToSend()) {
                return false;
            }
            set(ACK_NEW_PACKETS, app, true);
            if (get(ACK_NEW_PACKETS_SINCE, app) == null) {
                set(ACK_NEW_PACKETS_SINCE, app, java.time.Instant.now());
            }
        }
        return true;
    }

    /**
     * W8 (docs/kwik-workarounds.md#w8): stops two idle endpoints from keeping each other awake for ever on a fast path. RFC 9000 13.2.4: a receiver
     * that sends only ACK frames "could send a PING or other small ack-eliciting frame occasionally, such as once
     * per round trip, to elicit an ACK from the peer". Kwik 0.10.9 adds that PING to an ACK-only packet when more
     * than a smoothed RTT has passed since the peer last acknowledged its ACKs and 1.5 RTTs since its last
     * ack-eliciting packet. When the RTT is well below the ACK delay (about 20 ms), every such reply qualifies: each
     * side answers the other's PING, after its ACK delay, with an ACK and a PING. Measured (IdleTimeoutTest, warm
     * JVM, loopback): an idle connection exchanged a packet every 20 ms in each direction and never reached its
     * 1 s idle timeout. Here that rule sees the RTT as at least {@value #MIN_RTT_FOR_ACK_PINGS_MILLIS} ms, longer
     * than the ping-pong's period, so an idle reply is a plain ACK and the exchange ends; a receiver that only
     * acknowledges still asks for an ACK every 50 to 75 ms. Only that rule reads this RTT; loss detection and
     * congestion control keep the real one.
     */
    static void stopPingPongWhenIdle(QuicConnectionImpl connection) {
        tech.kwik.core.ack.GlobalAckGenerator global = (tech.kwik.core.ack.GlobalAckGenerator)
                get(SENDER_ACK_GENERATOR, invoke(KwikRecovery.GET_SENDER, connection));
        tech.kwik.core.ack.AckGenerator app = global.getAckGenerator(tech.kwik.core.common.PnSpace.App);
        tech.kwik.core.recovery.RttProvider real = (tech.kwik.core.recovery.RttProvider) get(ACK_GENERATOR_RTT, app);
        if (real instanceof FlooredRtt) {
            return;
        }
        set(ACK_GENERATOR_RTT, app, new FlooredRtt(real)); // a final field of a plain class: allowed once accessible
    }

    /** Kwik's smoothed RTT, but at least {@link #MIN_RTT_FOR_ACK_PINGS_MILLIS}. */
    private record FlooredRtt(tech.kwik.core.recovery.RttProvider real) implements tech.kwik.core.recovery.RttProvider {
        @Override
        public int getSmoothedRtt() {
            return Math.max(MIN_RTT_FOR_ACK_PINGS_MILLIS, real.getSmoothedRtt());
        }
    }
}
