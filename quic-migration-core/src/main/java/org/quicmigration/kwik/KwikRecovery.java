package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.stream.QuicStreamImpl;

/**
 * Internal: Kwik's loss recovery (RFC 9002): its sender, probe timeouts, loss detection timer and the packets in
 * flight. Each member is looked up by name where it is declared, when the class loads; {@link
 * KwikInternals#verify()} reports any that is missing at start-up.
 */
final class KwikRecovery {

    static final Method GET_SENDER = KwikMembers.method(QuicConnectionImpl.class, "getSender");
    static final Field SENDER_RECOVERY_MANAGER =
            KwikMembers.field(tech.kwik.core.send.SenderImpl.class, "recoveryManager");
    private static final Field RECOVERY_LOSS_DETECTORS =
            KwikMembers.field(tech.kwik.core.recovery.RecoveryManager.class, "lossDetectors");
    private static final Field LOSS_DETECTOR_SENT_LOG =
            KwikMembers.field(tech.kwik.core.recovery.LossDetector.class, "packetSentLog");
    private static final Method LOSS_DETECTOR_DECLARE_LOST =
            KwikMembers.method(tech.kwik.core.recovery.LossDetector.class, "declareLost", List.class);
    private static final Method PACKET_STATUS_IN_FLIGHT =
            KwikMembers.method(KwikMembers.type("tech.kwik.core.recovery.PacketStatus"), "inFlight");
    static final Field RECOVERY_PTO_COUNT =
            KwikMembers.field(tech.kwik.core.recovery.RecoveryManager.class, "ptoCount");
    private static final Field RECOVERY_TIMER_EXPIRATION =
            KwikMembers.field(tech.kwik.core.recovery.RecoveryManager.class, "timerExpiration");
    private static final Field LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT =
            KwikMembers.field(tech.kwik.core.recovery.LossDetector.class, "ackElicitingInFlight");
    private static final Field LOSS_DETECTOR_CONGESTION_CONTROLLER =
            KwikMembers.field(tech.kwik.core.recovery.LossDetector.class, "congestionController");
    private static final Method PACKET_STATUS_SET_LOST =
            KwikMembers.method(KwikMembers.type("tech.kwik.core.recovery.PacketStatus"), "setLost");
    private static final Method RECOVERY_SET_LOSS_TIMER =
            KwikMembers.method(tech.kwik.core.recovery.RecoveryManager.class, "setLossDetectionTimer");
    private static final Field RECOVERY_STOPPED =
            KwikMembers.field(tech.kwik.core.recovery.RecoveryManager.class, "hasBeenStopped");

    private KwikRecovery() {
    }

    /**
     * Queues {@code frame} as a probe: Kwik puts probe frames in a packet of their own (with at most an ACK), not
     * limited by congestion control and not padded. That keeps a path probe small enough for an anti-amplification
     * budget (W19, docs/kwik-workarounds.md#w19).
     */
    static void sendProbe(QuicConnectionImpl connection, QuicFrame frame) {
        ((tech.kwik.core.send.SenderImpl) invoke(GET_SENDER, connection))
                .sendProbe(List.of(frame), tech.kwik.core.common.EncryptionLevel.App);
    }

    /** Wakes Kwik's sender so queued frames leave now. */
    static void flush(QuicConnectionImpl connection) {
        ((tech.kwik.core.send.SenderImpl) invoke(GET_SENDER, connection)).flush();
    }

    /** Whether an ack-eliciting 1-RTT packet is in flight (sent, neither acknowledged nor declared lost). */
    static boolean ackElicitingInFlight(QuicConnectionImpl connection) {
        Object recovery = get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection));
        Object detector = ((Object[]) get(RECOVERY_LOSS_DETECTORS, recovery))[tech.kwik.core.common.PnSpace.App.ordinal()];
        return detector != null
                && ((java.util.concurrent.atomic.AtomicInteger) get(LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT, detector)).get() > 0;
    }

    static boolean lossTimerMissing(QuicConnectionImpl connection) {
        Object recovery = get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection));
        if (get(RECOVERY_TIMER_EXPIRATION, recovery) != null || (boolean) get(RECOVERY_STOPPED, recovery)
                || !KwikHandshake.handshakeConfirmed(connection)) {
            return false;
        }
        for (Object detector : (Object[]) get(RECOVERY_LOSS_DETECTORS, recovery)) {
            if (detector != null && ((java.util.concurrent.atomic.AtomicInteger)
                    get(LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT, detector)).get() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Test hook: cancels the loss-detection timer the way the race in {@link #lossTimerMissing} does, through Kwik's
     * own {@code unschedule()}. Looked up when called, not at start-up: the library itself never needs it.
     */
    static void cancelLossTimerAsKwiksRaceDoes(QuicConnectionImpl connection) {
        Method unschedule;
        try {
            unschedule = tech.kwik.core.recovery.RecoveryManager.class.getDeclaredMethod("unschedule");
            unschedule.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("Kwik's RecoveryManager has no unschedule()", e);
        }
        invoke(unschedule, get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
    }

    /** Lets Kwik set its loss-detection timer again from its own state (see {@link #lossTimerMissing}). */
    static void rearmLossTimer(QuicConnectionImpl connection) {
        invoke(RECOVERY_SET_LOSS_TIMER, get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
    }

    /** The PTO of the path in use, in milliseconds, as Kwik computes it. */
    static int ptoMillis(QuicConnectionImpl connection) {
        return ((tech.kwik.core.send.SenderImpl) invoke(GET_SENDER, connection)).getPto();
    }

    /** Kwik's probe timeouts in a row without an acknowledgement (RFC 9002 6.2's pto_count). */
    static int ptoCount(QuicConnectionImpl connection) {
        return (int) get(RECOVERY_PTO_COUNT, get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
    }

    /**
     * W21 (docs/kwik-workarounds.md#w21): takes a packet that carries only path frames ({@link RoutedProbeFrame}, with PADDING
     * or an ACK) out of Kwik's loss recovery and congestion control right after it was sent; sender thread, from the logger hook. RFC 9000
     * 9.4: "The sender can make exceptions for probe packets so that their loss detection is independent and does not
     * unduly cause the congestion controller to reduce its sending rate." Path frames go where the data does not: to a
     * path being probed, or to the path a client just left, which after a NAT rebinding is dead. Kwik counted each
     * such packet in flight and, when it was never acknowledged, declared it lost and halved its window: a trace of a
     * download whose NAT rebinds every 300 ms (25 ms each way) showed one or two halvings per rebinding, the window
     * stuck near its minimum and the download at 3 % of its goodput. The validation has its own timer and resends
     * its challenges, so nothing is lost by this.
     */
    static void detachProbeFromRecovery(QuicConnectionImpl connection, tech.kwik.core.packet.QuicPacket packet) {
        Long number = packet.getPacketNumber();
        if (number == null || packet.getEncryptionLevel() != tech.kwik.core.common.EncryptionLevel.App) {
            return;
        }
        Object recovery = get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection));
        Object detector = ((Object[]) get(RECOVERY_LOSS_DETECTORS, recovery))[tech.kwik.core.common.PnSpace.App.ordinal()];
        if (detector == null) {
            return;
        }
        java.util.Map<?, ?> sent = (java.util.Map<?, ?>) get(LOSS_DETECTOR_SENT_LOG, detector);
        Object status = sent.get(number);
        // Marking it lost first makes it Kwik's no more: an acknowledgement or a loss processed meanwhile skips it.
        if (status == null || !(boolean) invoke(PACKET_STATUS_SET_LOST, status)) {
            return;
        }
        sent.remove(number);
        if (packet.isAckEliciting()) {
            ((java.util.concurrent.atomic.AtomicInteger) get(LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT, detector)).decrementAndGet();
        }
        ((tech.kwik.core.cc.CongestionController) get(LOSS_DETECTOR_CONGESTION_CONTROLLER, detector))
                .discard(List.of((tech.kwik.core.packet.PacketInfo) status));
    }

    /**
     * Declares every 1-RTT packet in flight lost, as Kwik's loss detection would: it calls each packet's lost
     * callback (which queues its frames again), wakes the sender and subtracts the bytes from the congestion
     * controller. Kwik marks a packet lost at most once, so a concurrent ACK or loss timer cannot count it twice.
     * Only packets sent before {@code cutoff} (all if null); {@code losses}, if not null, records them so that late
     * acknowledgements cancel their resends.
     */
    static void declareLostSentBefore(Object sender, java.time.Instant cutoff, DeclaredLosses losses) {
        Object recovery = get(SENDER_RECOVERY_MANAGER, sender);
        Object detector = ((Object[]) get(RECOVERY_LOSS_DETECTORS, recovery))[tech.kwik.core.common.PnSpace.App.ordinal()];
        if (detector == null) {
            return;
        }
        java.util.SortedMap<?, ?> sent = (java.util.SortedMap<?, ?>) get(LOSS_DETECTOR_SENT_LOG, detector);
        List<Object> inFlight = new ArrayList<>();
        for (Object status : sent.values()) {
            if ((boolean) invoke(PACKET_STATUS_IN_FLIGHT, status) && (cutoff == null
                    || ((tech.kwik.core.packet.PacketInfo) status).timeSent().isBefore(cutoff))) {
                inFlight.add(status);
            }
        }
        if (!inFlight.isEmpty()) {
            if (losses != null) {
                List<tech.kwik.core.packet.QuicPacket> packets = new ArrayList<>(inFlight.size());
                for (Object status : inFlight) {
                    packets.add(((tech.kwik.core.packet.PacketInfo) status).packet());
                }
                losses.declared(packets); // before Kwik queues their frames again
            }
            invoke(LOSS_DETECTOR_DECLARE_LOST, detector, inFlight);
        }
    }

    /** A one-paragraph description of the connection's send side, for stall reports. */
    static String describeSendSide(QuicConnectionImpl connection) {
        StringBuilder text = new StringBuilder();
        try {
            tech.kwik.core.cc.CongestionController cc = (tech.kwik.core.cc.CongestionController)
                    get(KwikCongestion.SENDER_CONGESTION_CONTROLLER, invoke(GET_SENDER, connection));
            Object rtt = get(KwikCongestion.SENDER_RTT_ESTIMATOR, invoke(GET_SENDER, connection));
            text.append("congestion window ").append(cc.getWindowSize()).append(", in flight ").append(cc.getBytesInFlight())
                    .append(", srtt ").append(get(KwikCongestion.RTT_SMOOTHED, rtt)).append(" ms, rttvar ").append(get(KwikCongestion.RTT_VARIANCE, rtt))
                    .append(", latest ").append(get(KwikCongestion.RTT_LATEST, rtt));
            text.append("; receive limit granted ").append(KwikStreams.connectionReceiveLimit(connection));
            describeRecovery(invoke(GET_SENDER, connection), text);
            for (Map.Entry<Integer, QuicStreamImpl> entry : KwikStreams.streams(connection).entrySet()) {
                Object output = KwikStreams.output(entry.getValue());
                text.append("; stream ").append(entry.getKey()).append(": ").append(KwikStreams.sendState(entry.getValue(), output));
                if (KwikStreams.OUTPUT_FLOW_CONTROLLER.getDeclaringClass().isInstance(output)) {
                    try {
                        text.append(", ").append(((tech.kwik.core.stream.FlowControl) get(KwikStreams.OUTPUT_FLOW_CONTROLLER, output))
                                .getFlowControlBlockReason(entry.getValue()));
                    } catch (RuntimeException e) {
                        text.append(", not flow controlled");
                    }
                }
                text.append(", receive limit ").append(KwikStreams.streamReceiveLimit(entry.getValue()));
            }
        } catch (RuntimeException e) {
            text.append(" (").append(e).append(')');
        }
        return text.toString();
    }

    /** Loss recovery, for stall reports: the PTO count, when the loss timer fires, and the 1-RTT packets in flight. */
    private static void describeRecovery(Object sender, StringBuilder text) {
        Object recovery = get(SENDER_RECOVERY_MANAGER, sender);
        java.time.Instant expiration = (java.time.Instant) get(RECOVERY_TIMER_EXPIRATION, recovery);
        text.append("; recovery: pto count ").append(get(RECOVERY_PTO_COUNT, recovery)).append(", loss timer ")
                .append(expiration == null ? "not armed"
                        : "in " + java.time.Duration.between(java.time.Instant.now(), expiration).toMillis() + " ms");
        Object detector = ((Object[]) get(RECOVERY_LOSS_DETECTORS, recovery))[tech.kwik.core.common.PnSpace.App.ordinal()];
        if (detector == null) {
            return;
        }
        java.util.SortedMap<?, ?> sent = (java.util.SortedMap<?, ?>) get(LOSS_DETECTOR_SENT_LOG, detector);
        int shown = 0;
        for (Object status : sent.values()) { // a concurrent map: iterating while Kwik changes it is safe
            if ((boolean) invoke(PACKET_STATUS_IN_FLIGHT, status) && shown++ < 8) {
                tech.kwik.core.packet.PacketInfo info = (tech.kwik.core.packet.PacketInfo) status;
                text.append("; in flight: ").append(status).append(" sent ")
                        .append(java.time.Duration.between(info.timeSent(), java.time.Instant.now()).toMillis())
                        .append(" ms ago ").append(info.packet().getFrames());
            }
        }
    }
}
