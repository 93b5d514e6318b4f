package org.quicmigration.kwik;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import tech.kwik.core.KwikVersion;
import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.stream.QuicStreamImpl;
import tech.kwik.core.stream.StreamManager;

/**
 * Internal: the one place that reaches into Kwik's non-public members. Every member is looked up once, when this
 * class loads; {@link #verify()} fails with a message that names the Kwik version on the class path if any is
 * missing, so an incompatible Kwik is reported at start-up instead of as a stall in production.
 *
 * <p>Tested against Kwik 0.10.9 (with agent15 3.1). The work-arounds these members serve are named W1, W2, ... in
 * docs/kwik-workarounds.md.
 */
final class KwikInternals {

    static final String TESTED_KWIK_VERSION = "0.10.9";

    private static final String STREAM_OUTPUT_CLASS = "tech.kwik.core.stream.StreamOutputStreamImpl";
    private static final String STREAM_INPUT_CLASS = "tech.kwik.core.stream.StreamInputStreamImpl";
    private static final String SEND_BUFFER_CLASS = "tech.kwik.core.stream.SendBuffer";
    private static final String RETRANSMIT_BUFFER_CLASS = "tech.kwik.core.stream.RetransmitBuffer";

    private static final Throwable FAILURE;
    private static final Method GET_STREAM_MANAGER;
    private static final Field STREAMS;
    private static final Field CONNECTION_FLOW_CONTROL_MAX;
    private static final Field STREAM_OUTPUT;
    private static final Field STREAM_INPUT;
    private static final Field OUTPUT_SEND_BUFFER;
    private static final Field OUTPUT_RETRANSMIT_BUFFER;
    private static final Field OUTPUT_CURRENT_OFFSET;
    private static final Field OUTPUT_SEND_REQUESTS_QUEUED;
    private static final Field OUTPUT_RESET;
    private static final Field OUTPUT_ABORTED;
    private static final Field OUTPUT_FLOW_CONTROLLER;
    private static final Field OUTPUT_MIN_FRAME_SIZE;
    private static final Method OUTPUT_SEND_STREAM_FRAME;
    private static final Method OUTPUT_RETRANSMIT_STREAM_FRAME;
    private static final Method SEND_BUFFER_HAS_DATA;
    private static final Method RETRANSMIT_BUFFER_HAS_DATA;
    private static final Field INPUT_RECEIVER_LIMIT;
    private static final Field DATA_BLOCKED_LIMIT;
    private static final Method GET_SENDER;
    private static final Field SENDER_CONGESTION_CONTROLLER;
    private static final Method SERVER_CONNECTOR_CLOSE;
    private static final Method CLIENT_CID_MANAGER;
    private static final Field CID_MANAGER_PEER_REGISTRY;
    private static final Field CID_REGISTRY_CURRENT;
    private static final Field HANDSHAKE_STATE;
    private static final Field SENDER_RTT_ESTIMATOR;
    private static final Field CC_WINDOW;
    private static final Field CC_INITIAL_WINDOW;
    private static final Field CC_SLOW_START_THRESHOLD;
    private static final Field CC_RECOVERY_START;
    private static final Field RTT_SMOOTHED;
    private static final Field RTT_VARIANCE;
    private static final Field RTT_MIN;
    private static final Field RTT_LATEST;
    private static final Field RTT_INITIAL;
    private static final java.lang.reflect.Constructor<?> SERVER_CONNECTOR;
    private static final Field NEW_CID_FRAME_TOKEN;
    private static final Method SERVER_CID_MANAGER;
    private static final Field PACKET_FILTER_NEXT;
    private static final Field SENDER_RECOVERY_MANAGER;
    private static final Field RECOVERY_LOSS_DETECTORS;
    private static final Field LOSS_DETECTOR_SENT_LOG;
    private static final Method LOSS_DETECTOR_DECLARE_LOST;
    private static final Method PACKET_STATUS_IN_FLIGHT;
    private static final Field CID_MANAGER_OWN_REGISTRY;
    private static final Field CID_MANAGER_CONNECTION_REGISTRY;
    private static final Field CID_MANAGER_MAX_ISSUED;
    private static final Field PARAMETERS_EXTENSION_VERSION;
    private static final Field RECOVERY_PTO_COUNT;
    private static final Field RECOVERY_TIMER_EXPIRATION;
    private static final Field CONNECTION_SECRETS;
    private static final Field LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT;
    private static final Method RECOVERY_SET_LOSS_TIMER;
    private static final Field CLIENT_TLS_ENGINE;
    private static final Field TLS_CLIENT_ENGINE_STATUS;
    private static final Field TLS_CLIENT_ENGINE_STATUS_HANDLER;
    private static final Field TLS_CLIENT_ENGINE_CLIENT_HELLO;
    private static final Method CID_INFO_SET_STATUS;
    private static final Field ACK_NEW_PACKETS;
    private static final Field ACK_NEW_PACKETS_SINCE;
    private static final Field RECOVERY_STOPPED;
    private static final Field LOSS_DETECTOR_CONGESTION_CONTROLLER;
    private static final Method PACKET_STATUS_SET_LOST;
    private static final Field IDLE_TIMER_EXECUTOR;
    private static final Method IDLE_TIMER_ENABLED;
    private static final Method IDLE_TIMER_GET_TIMEOUT;
    private static final Method IDLE_TIMER_SET_TIMEOUT;
    private static final Field SENDER_ACK_GENERATOR;
    private static final Field ACK_GENERATOR_RTT;

    static {
        List<Object> members = new ArrayList<>();
        Throwable failure = null;
        try {
            members.add(method(QuicConnectionImpl.class, "getStreamManager"));
            members.add(field(StreamManager.class, "streams"));
            members.add(field(StreamManager.class, "flowControlMax"));
            members.add(field(QuicStreamImpl.class, "outputStream"));
            members.add(field(QuicStreamImpl.class, "inputStream"));
            Class<?> output = Class.forName(STREAM_OUTPUT_CLASS);
            members.add(field(output, "sendBuffer"));
            members.add(field(output, "retransmitBuffer"));
            members.add(field(output, "currentOffset"));
            members.add(field(output, "sendRequestsQueued"));
            members.add(field(output, "reset"));
            members.add(field(output, "aborted"));
            members.add(field(output, "flowController"));
            members.add(field(output, "MIN_FRAME_SIZE"));
            members.add(method(output, "sendStreamFrame", int.class));
            members.add(method(output, "retransmitStreamFrame", QuicFrame.class));
            members.add(method(Class.forName(SEND_BUFFER_CLASS), "hasData"));
            members.add(method(Class.forName(RETRANSMIT_BUFFER_CLASS), "hasDataToRetransmit"));
            members.add(field(Class.forName(STREAM_INPUT_CLASS), "receiverFlowControlLimit"));
            members.add(field(DataBlockedFrame.class, "streamDataLimit"));
            members.add(method(QuicConnectionImpl.class, "getSender"));
            members.add(field(tech.kwik.core.send.SenderImpl.class, "congestionController"));
            members.add(method(tech.kwik.core.server.impl.ServerConnectorImpl.class, "close", java.time.Duration.class));
            members.add(method(tech.kwik.core.impl.QuicClientConnectionImpl.class, "getConnectionIdManager"));
            members.add(field(tech.kwik.core.cid.ConnectionIdManager.class, "peerCidRegistry"));
            members.add(field(tech.kwik.core.cid.ConnectionIdRegistry.class, "currentConnectionId"));
            members.add(field(QuicConnectionImpl.class, "handshakeState"));
            members.add(field(tech.kwik.core.send.SenderImpl.class, "rttEstimater"));
            members.add(field(tech.kwik.core.cc.AbstractCongestionController.class, "congestionWindow"));
            members.add(field(tech.kwik.core.cc.AbstractCongestionController.class, "initialWindowSize"));
            members.add(field(tech.kwik.core.cc.NewRenoCongestionController.class, "slowStartThreshold"));
            members.add(field(tech.kwik.core.cc.NewRenoCongestionController.class, "congestionRecoveryStartTime"));
            members.add(field(tech.kwik.core.recovery.RttEstimator.class, "smoothedRtt"));
            members.add(field(tech.kwik.core.recovery.RttEstimator.class, "rttVar"));
            members.add(field(tech.kwik.core.recovery.RttEstimator.class, "minRtt"));
            members.add(field(tech.kwik.core.recovery.RttEstimator.class, "latestRtt"));
            members.add(field(tech.kwik.core.recovery.RttEstimator.class, "initialRtt"));
            java.lang.reflect.Constructor<?> connector = tech.kwik.core.server.impl.ServerConnectorImpl.class
                    .getDeclaredConstructor(java.net.DatagramSocket.class, tech.kwik.agent15.engine.TlsServerEngineFactory.class,
                            List.class, tech.kwik.core.server.ServerConnectionConfig.class, tech.kwik.core.log.Logger.class);
            connector.setAccessible(true);
            members.add(connector);
            members.add(field(tech.kwik.core.frame.NewConnectionIdFrame.class, "statelessResetToken"));
            members.add(method(tech.kwik.core.server.impl.ServerConnectionImpl.class, "getConnectionIdManager"));
            members.add(field(tech.kwik.core.packet.BasePacketFilter.class, "next"));
            members.add(field(tech.kwik.core.send.SenderImpl.class, "recoveryManager"));
            members.add(field(tech.kwik.core.recovery.RecoveryManager.class, "lossDetectors"));
            members.add(field(tech.kwik.core.recovery.LossDetector.class, "packetSentLog"));
            members.add(method(tech.kwik.core.recovery.LossDetector.class, "declareLost", List.class));
            members.add(method(Class.forName("tech.kwik.core.recovery.PacketStatus"), "inFlight"));
            members.add(field(tech.kwik.core.cid.ConnectionIdManager.class, "cidRegistry"));
            members.add(field(tech.kwik.core.cid.ConnectionIdManager.class, "connectionRegistry"));
            members.add(field(tech.kwik.core.cid.ConnectionIdManager.class, "maxCids"));
            members.add(field(tech.kwik.core.tls.QuicTransportParametersExtension.class, "quicVersion"));
            members.add(field(tech.kwik.core.recovery.RecoveryManager.class, "ptoCount"));
            members.add(field(tech.kwik.core.recovery.RecoveryManager.class, "timerExpiration"));
            members.add(field(QuicConnectionImpl.class, "connectionSecrets"));
            members.add(field(tech.kwik.core.recovery.LossDetector.class, "ackElicitingInFlight"));
            members.add(field(tech.kwik.core.recovery.LossDetector.class, "congestionController"));
            members.add(method(Class.forName("tech.kwik.core.recovery.PacketStatus"), "setLost"));
            members.add(field(tech.kwik.core.impl.IdleTimer.class, "timer"));
            members.add(method(tech.kwik.core.impl.IdleTimer.class, "isEnabled"));
            members.add(method(tech.kwik.core.impl.IdleTimer.class, "getIdleTimeout"));
            members.add(method(tech.kwik.core.impl.IdleTimer.class, "setIdleTimeout", long.class));
            members.add(field(tech.kwik.core.send.SenderImpl.class, "globalAckGenerator"));
            members.add(field(tech.kwik.core.ack.AckGenerator.class, "rttProvider"));
            members.add(method(tech.kwik.core.recovery.RecoveryManager.class, "setLossDetectionTimer"));
            members.add(field(tech.kwik.core.recovery.RecoveryManager.class, "hasBeenStopped"));
            members.add(field(tech.kwik.core.impl.QuicClientConnectionImpl.class, "tlsEngine"));
            members.add(field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "status"));
            members.add(field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "statusHandler"));
            members.add(field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "clientHello"));
            members.add(method(tech.kwik.core.cid.ConnectionIdInfo.class, "setStatus",
                    tech.kwik.core.cid.ConnectionIdStatus.class));
            members.add(field(tech.kwik.core.ack.AckGenerator.class, "newPacketsToAcknowledge"));
            members.add(field(tech.kwik.core.ack.AckGenerator.class, "newPacketsToAcknowlegdeSince"));
            // Used without reflection, but only meaningful if present: the filter chain position and the probe queue.
            tech.kwik.core.packet.DropDuplicatePacketsFilter.class.getName();
            method(tech.kwik.core.send.SenderImpl.class, "sendProbe", List.class, tech.kwik.core.common.EncryptionLevel.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            failure = e;
        }
        FAILURE = failure;
        boolean ok = failure == null;
        int i = 0;
        GET_STREAM_MANAGER = ok ? (Method) members.get(i++) : null;
        STREAMS = ok ? (Field) members.get(i++) : null;
        CONNECTION_FLOW_CONTROL_MAX = ok ? (Field) members.get(i++) : null;
        STREAM_OUTPUT = ok ? (Field) members.get(i++) : null;
        STREAM_INPUT = ok ? (Field) members.get(i++) : null;
        OUTPUT_SEND_BUFFER = ok ? (Field) members.get(i++) : null;
        OUTPUT_RETRANSMIT_BUFFER = ok ? (Field) members.get(i++) : null;
        OUTPUT_CURRENT_OFFSET = ok ? (Field) members.get(i++) : null;
        OUTPUT_SEND_REQUESTS_QUEUED = ok ? (Field) members.get(i++) : null;
        OUTPUT_RESET = ok ? (Field) members.get(i++) : null;
        OUTPUT_ABORTED = ok ? (Field) members.get(i++) : null;
        OUTPUT_FLOW_CONTROLLER = ok ? (Field) members.get(i++) : null;
        OUTPUT_MIN_FRAME_SIZE = ok ? (Field) members.get(i++) : null;
        OUTPUT_SEND_STREAM_FRAME = ok ? (Method) members.get(i++) : null;
        OUTPUT_RETRANSMIT_STREAM_FRAME = ok ? (Method) members.get(i++) : null;
        SEND_BUFFER_HAS_DATA = ok ? (Method) members.get(i++) : null;
        RETRANSMIT_BUFFER_HAS_DATA = ok ? (Method) members.get(i++) : null;
        INPUT_RECEIVER_LIMIT = ok ? (Field) members.get(i++) : null;
        DATA_BLOCKED_LIMIT = ok ? (Field) members.get(i++) : null;
        GET_SENDER = ok ? (Method) members.get(i++) : null;
        SENDER_CONGESTION_CONTROLLER = ok ? (Field) members.get(i++) : null;
        SERVER_CONNECTOR_CLOSE = ok ? (Method) members.get(i++) : null;
        CLIENT_CID_MANAGER = ok ? (Method) members.get(i++) : null;
        CID_MANAGER_PEER_REGISTRY = ok ? (Field) members.get(i++) : null;
        CID_REGISTRY_CURRENT = ok ? (Field) members.get(i++) : null;
        HANDSHAKE_STATE = ok ? (Field) members.get(i++) : null;
        SENDER_RTT_ESTIMATOR = ok ? (Field) members.get(i++) : null;
        CC_WINDOW = ok ? (Field) members.get(i++) : null;
        CC_INITIAL_WINDOW = ok ? (Field) members.get(i++) : null;
        CC_SLOW_START_THRESHOLD = ok ? (Field) members.get(i++) : null;
        CC_RECOVERY_START = ok ? (Field) members.get(i++) : null;
        RTT_SMOOTHED = ok ? (Field) members.get(i++) : null;
        RTT_VARIANCE = ok ? (Field) members.get(i++) : null;
        RTT_MIN = ok ? (Field) members.get(i++) : null;
        RTT_LATEST = ok ? (Field) members.get(i++) : null;
        RTT_INITIAL = ok ? (Field) members.get(i++) : null;
        SERVER_CONNECTOR = ok ? (java.lang.reflect.Constructor<?>) members.get(i++) : null;
        NEW_CID_FRAME_TOKEN = ok ? (Field) members.get(i++) : null;
        SERVER_CID_MANAGER = ok ? (Method) members.get(i++) : null;
        PACKET_FILTER_NEXT = ok ? (Field) members.get(i++) : null;
        SENDER_RECOVERY_MANAGER = ok ? (Field) members.get(i++) : null;
        RECOVERY_LOSS_DETECTORS = ok ? (Field) members.get(i++) : null;
        LOSS_DETECTOR_SENT_LOG = ok ? (Field) members.get(i++) : null;
        LOSS_DETECTOR_DECLARE_LOST = ok ? (Method) members.get(i++) : null;
        PACKET_STATUS_IN_FLIGHT = ok ? (Method) members.get(i++) : null;
        CID_MANAGER_OWN_REGISTRY = ok ? (Field) members.get(i++) : null;
        CID_MANAGER_CONNECTION_REGISTRY = ok ? (Field) members.get(i++) : null;
        CID_MANAGER_MAX_ISSUED = ok ? (Field) members.get(i++) : null;
        PARAMETERS_EXTENSION_VERSION = ok ? (Field) members.get(i++) : null;
        RECOVERY_PTO_COUNT = ok ? (Field) members.get(i++) : null;
        RECOVERY_TIMER_EXPIRATION = ok ? (Field) members.get(i++) : null;
        CONNECTION_SECRETS = ok ? (Field) members.get(i++) : null;
        LOSS_DETECTOR_ACK_ELICITING_IN_FLIGHT = ok ? (Field) members.get(i++) : null;
        LOSS_DETECTOR_CONGESTION_CONTROLLER = ok ? (Field) members.get(i++) : null;
        PACKET_STATUS_SET_LOST = ok ? (Method) members.get(i++) : null;
        IDLE_TIMER_EXECUTOR = ok ? (Field) members.get(i++) : null;
        IDLE_TIMER_ENABLED = ok ? (Method) members.get(i++) : null;
        IDLE_TIMER_GET_TIMEOUT = ok ? (Method) members.get(i++) : null;
        IDLE_TIMER_SET_TIMEOUT = ok ? (Method) members.get(i++) : null;
        SENDER_ACK_GENERATOR = ok ? (Field) members.get(i++) : null;
        ACK_GENERATOR_RTT = ok ? (Field) members.get(i++) : null;
        RECOVERY_SET_LOSS_TIMER = ok ? (Method) members.get(i++) : null;
        RECOVERY_STOPPED = ok ? (Field) members.get(i++) : null;
        CLIENT_TLS_ENGINE = ok ? (Field) members.get(i++) : null;
        TLS_CLIENT_ENGINE_STATUS = ok ? (Field) members.get(i++) : null;
        TLS_CLIENT_ENGINE_STATUS_HANDLER = ok ? (Field) members.get(i++) : null;
        TLS_CLIENT_ENGINE_CLIENT_HELLO = ok ? (Field) members.get(i++) : null;
        CID_INFO_SET_STATUS = ok ? (Method) members.get(i++) : null;
        ACK_NEW_PACKETS = ok ? (Field) members.get(i++) : null;
        ACK_NEW_PACKETS_SINCE = ok ? (Field) members.get(i) : null;
    }

    private KwikInternals() {
    }

    /**
     * Fails if the Kwik on the class path lacks a member this library needs.
     *
     * @throws IllegalStateException naming the Kwik version found and the one tested
     */
    static void verify() {
        if (FAILURE != null) {
            throw new IllegalStateException("quic-migration needs Kwik " + TESTED_KWIK_VERSION + " but found Kwik "
                    + KwikVersion.getVersion() + ", which lacks an internal member it uses: " + FAILURE, FAILURE);
        }
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
        Object sender = invoke(GET_SENDER, connection);
        tech.kwik.core.ack.GlobalAckGenerator global = (tech.kwik.core.ack.GlobalAckGenerator)
                get(SENDER_ACK_GENERATOR, sender);
        tech.kwik.core.ack.AckGenerator app = global.getAckGenerator(tech.kwik.core.common.PnSpace.App);
        synchronized (app) {
            if (!app.hasAckToSend()) {
                return;
            }
            set(ACK_NEW_PACKETS, app, true);
            if (get(ACK_NEW_PACKETS_SINCE, app) == null) {
                set(ACK_NEW_PACKETS_SINCE, app, java.time.Instant.now());
            }
        }
        ((tech.kwik.core.send.SenderImpl) sender).sendAck(tech.kwik.core.common.PnSpace.App, 0);
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
                get(SENDER_ACK_GENERATOR, invoke(GET_SENDER, connection));
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

    /** The connection's streams, by id; a live concurrent map owned by Kwik. */
    @SuppressWarnings("unchecked")
    static Map<Integer, QuicStreamImpl> streams(QuicConnectionImpl connection) {
        return (Map<Integer, QuicStreamImpl>) get(STREAMS, streamManager(connection));
    }

    /** The connection-level receive limit we have granted (what MAX_DATA should say). */
    static long connectionReceiveLimit(QuicConnectionImpl connection) {
        return (long) get(CONNECTION_FLOW_CONTROL_MAX, streamManager(connection));
    }

    /** The stream-level receive limit we have granted (what MAX_STREAM_DATA should say). */
    static long streamReceiveLimit(QuicStreamImpl stream) {
        return (long) get(INPUT_RECEIVER_LIMIT, get(STREAM_INPUT, stream));
    }

    static long dataBlockedLimit(DataBlockedFrame frame) {
        return (long) get(DATA_BLOCKED_LIMIT, frame);
    }

    /** The output side of a stream; the handle {@link #sendState} and {@link #queueSendRequest} take. */
    static Object output(QuicStreamImpl stream) {
        return get(STREAM_OUTPUT, stream);
    }

    /**
     * Makes a new stream resend its lost frames lowest offset first ({@link OrderedRetransmitBuffer}). Called before
     * the application can write to the stream, so nothing can have been lost yet; if something was, Kwik's buffer
     * stays (replacing it then could lose a frame).
     */
    static void orderRetransmissions(tech.kwik.core.QuicStream stream, DeclaredLosses losses) {
        if (!(stream instanceof QuicStreamImpl impl)) {
            return;
        }
        Object output = output(impl);
        if (output == null || !OUTPUT_RETRANSMIT_BUFFER.getDeclaringClass().isInstance(output)) {
            return;
        }
        Object buffer = get(OUTPUT_RETRANSMIT_BUFFER, output);
        if (buffer != null && buffer.getClass() == tech.kwik.core.stream.RetransmitBuffer.class
                && !((tech.kwik.core.stream.RetransmitBuffer) buffer).hasDataToRetransmit()) {
            set(OUTPUT_RETRANSMIT_BUFFER, output, new OrderedRetransmitBuffer(losses)); // a final field of a plain class
        }
    }

    /** A snapshot of what a stream's sender holds; values are read without Kwik's locks, so they are hints. */
    record SendState(boolean hasData, boolean closedOrReset, long offset, long flowControlLimit, int requestsQueued) {
    }

    static SendState sendState(QuicStreamImpl stream, Object output) {
        if (!OUTPUT_SEND_BUFFER.getDeclaringClass().isInstance(output)) {
            return null; // early-data or null output streams: nothing to watch
        }
        boolean reset = (boolean) get(OUTPUT_RESET, output) || (boolean) get(OUTPUT_ABORTED, output);
        boolean retransmit = (boolean) invoke(RETRANSMIT_BUFFER_HAS_DATA, get(OUTPUT_RETRANSMIT_BUFFER, output));
        boolean fresh = (boolean) invoke(SEND_BUFFER_HAS_DATA, get(OUTPUT_SEND_BUFFER, output));
        long offset = (long) get(OUTPUT_CURRENT_OFFSET, output);
        if (!retransmit && !fresh) {
            return new SendState(false, reset, offset, offset, 0);
        }
        long limit;
        try {
            limit = retransmit ? Long.MAX_VALUE
                    : ((tech.kwik.core.stream.FlowControl) get(OUTPUT_FLOW_CONTROLLER, output)).getFlowControlLimit(stream);
        } catch (NullPointerException e) {
            // Kwik unregisters a stream from flow control once its final frame is sent: nothing left to watch.
            return null;
        }
        int queued = ((AtomicInteger) get(OUTPUT_SEND_REQUESTS_QUEUED, output)).get();
        return new SendState(retransmit || fresh, reset, offset, limit, queued);
    }

    /**
     * True if a stream's output holds lost frames to resend and no send request is queued for them: the lost
     * send request of {@link StallGuard} (W4, docs/kwik-workarounds.md#w4), for a stream whose final frame was already sent (Kwik then no longer
     * lists it, so nothing else would notice). Null if the output is not one Kwik resends from.
     */
    static Boolean retransmitWaitsWithoutRequest(Object output) {
        if (!OUTPUT_SEND_BUFFER.getDeclaringClass().isInstance(output)) {
            return null;
        }
        if ((boolean) get(OUTPUT_RESET, output) || (boolean) get(OUTPUT_ABORTED, output)) {
            return null;
        }
        boolean retransmit = (boolean) invoke(RETRANSMIT_BUFFER_HAS_DATA, get(OUTPUT_RETRANSMIT_BUFFER, output));
        return retransmit && ((AtomicInteger) get(OUTPUT_SEND_REQUESTS_QUEUED, output)).get() <= 0;
    }

    /**
     * Queues one send request for the stream, the way Kwik's own output stream should: the request counter is
     * raised before the request is queued, so the sender thread can never see it below zero (W1,
     * docs/kwik-workarounds.md#w1).
     */
    static void queueSendRequest(QuicConnectionImpl connection, Object output) {
        ((AtomicInteger) get(OUTPUT_SEND_REQUESTS_QUEUED, output)).incrementAndGet();
        int minFrameSize = (int) get(OUTPUT_MIN_FRAME_SIZE, null);
        connection.send(
                maxSize -> (QuicFrame) invoke(OUTPUT_SEND_STREAM_FRAME, output, maxSize),
                minFrameSize,
                tech.kwik.core.common.EncryptionLevel.App,
                lost -> invoke(OUTPUT_RETRANSMIT_STREAM_FRAME, output, lost),
                true);
    }

    /**
     * W30 (docs/kwik-workarounds.md#w30): closes a Kwik server, waiting at most {@code timeout} for its connections to finish
     * closing. Kwik's public
     * {@code close()} waits up to 30 s, and a connection whose handshake the server rejected (for example for
     * an unknown ALPN) is never removed from Kwik's registry, so it always waited the full 30 s.
     */
    static void closeServer(tech.kwik.core.server.ServerConnector connector, java.time.Duration timeout) {
        invoke(SERVER_CONNECTOR_CLOSE, connector, timeout);
    }

    /**
     * W13 (docs/kwik-workarounds.md#w13): makes Kwik address the peer with {@code peerId} in every packet it builds from now
     * on. Kwik's own API only moves to the next sequence number; going back to an earlier ID (fallback to the old
     * path) needs this.
     */
    static void usePeerConnectionId(tech.kwik.core.impl.QuicClientConnectionImpl connection, byte[] peerId) {
        tech.kwik.core.cid.ConnectionIdRegistry registry = (tech.kwik.core.cid.ConnectionIdRegistry)
                get(CID_MANAGER_PEER_REGISTRY, invoke(CLIENT_CID_MANAGER, connection));
        byte[] previous = registry.getCurrent();
        set(CID_REGISTRY_CURRENT, registry, peerId.clone());
        // Kwik checks stateless reset tokens only for IDs whose status says they were used (RFC 9000 10.3.1: "MUST
        // NOT check for any stateless reset tokens associated with connection IDs it has not used"), and only its own
        // switch sets that status: without this, a reset for the ID a migration moved to went unnoticed (W34, docs/kwik-workarounds.md#w34).
        for (tech.kwik.core.cid.ConnectionIdInfo info : registry.getAll().values()) {
            if (java.util.Arrays.equals(info.getConnectionId(), peerId)) {
                invoke(CID_INFO_SET_STATUS, info, tech.kwik.core.cid.ConnectionIdStatus.IN_USE);
            } else if (java.util.Arrays.equals(info.getConnectionId(), previous)
                    && info.getConnectionIdStatus() == tech.kwik.core.cid.ConnectionIdStatus.IN_USE) {
                invoke(CID_INFO_SET_STATUS, info, tech.kwik.core.cid.ConnectionIdStatus.USED);
            }
        }
    }

    /**
     * W26 (docs/kwik-workarounds.md#w26): the connection ID in the server's preferred_address is not registered as sequence 1 (RFC 9000
     * 5.1.1: "the sequence number of the connection ID supplied in the preferred_address transport parameter is
     * 1"). Registers it, with its reset token, as if it had come in a NEW_CONNECTION_ID frame.
     */
    static void registerPreferredAddressId(tech.kwik.core.impl.QuicClientConnectionImpl connection, byte[] id,
                                           byte[] resetToken) {
        tech.kwik.core.frame.NewConnectionIdFrame frame =
                new tech.kwik.core.frame.NewConnectionIdFrame(tech.kwik.core.impl.Version.getDefault(), 1, 0, id);
        if (resetToken != null) {
            set(NEW_CID_FRAME_TOKEN, frame, resetToken.clone());
        }
        ((tech.kwik.core.cid.ConnectionIdManager) invoke(CLIENT_CID_MANAGER, connection)).process(frame);
    }

    /**
     * W27 (docs/kwik-workarounds.md#w27): Kwik parses the preferred_address port as {@code (byte << 8) | byte} with signed bytes. If the
     * low byte is below 0x80 the real port is the low 16 bits; otherwise sign extension erased the high byte and
     * the port cannot be known: returns -1.
     */
    static int decodePreferredPort(int parsed) {
        if ((parsed & 0x80) != 0 && (parsed & 0xFFFFFF00) == 0xFFFFFF00) {
            return -1;
        }
        return parsed & 0xFFFF;
    }

    /** RFC 9001 4.1.2: the client's handshake is confirmed once HANDSHAKE_DONE arrived. */
    static boolean handshakeConfirmed(QuicConnectionImpl connection) {
        return get(HANDSHAKE_STATE, connection) == tech.kwik.core.impl.HandshakeState.Confirmed;
    }

    /**
     * Builds Kwik's server connector with our TLS engine factory (the only way to change the transport parameters
     * Kwik's server sends, W24: docs/kwik-workarounds.md#w24), through the private constructor the public builder uses.
     */
    static tech.kwik.core.server.ServerConnector newServerConnector(java.net.DatagramSocket socket,
            tech.kwik.agent15.engine.TlsServerEngineFactory tlsFactory, tech.kwik.core.server.ServerConnectionConfig config,
            tech.kwik.core.log.Logger logger) {
        try {
            return (tech.kwik.core.server.ServerConnector) SERVER_CONNECTOR.newInstance(socket, tlsFactory,
                    List.of(tech.kwik.core.QuicConnection.QuicVersion.V1), config, logger);
        } catch (InstantiationException | IllegalAccessException e) {
            throw new IllegalStateException("cannot create Kwik's server connector", e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("Kwik's server connector failed to start: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Puts {@code filter} into the server connection's packet processing chain (W17, docs/kwik-workarounds.md#w17), right
     * after Kwik drops duplicate packets and before it processes frames, so the filter sees every new authenticated 1-RTT packet with its
     * metadata (including the source address the socket layer presented).
     *
     * @param filter given Kwik's next filter, returns the filter to insert
     */
    static void insertAfterDuplicateFilter(tech.kwik.core.server.impl.ServerConnectionImpl connection,
            java.util.function.Function<tech.kwik.core.packet.PacketFilter, tech.kwik.core.packet.PacketFilter> filter) {
        Object current = connection.getPacketProcessorChain();
        while (current instanceof tech.kwik.core.packet.BasePacketFilter) {
            Object next = get(PACKET_FILTER_NEXT, current);
            if (current instanceof tech.kwik.core.packet.DropDuplicatePacketsFilter) {
                set(PACKET_FILTER_NEXT, current, filter.apply((tech.kwik.core.packet.PacketFilter) next));
                return;
            }
            current = next;
        }
        throw new IllegalStateException("Kwik's packet chain has no duplicate filter");
    }

    /** The key this endpoint seals 1-RTT packets with now (for {@link ProbeResealer}, W20); sender thread. */
    static tech.kwik.core.crypto.Aead ownApplicationAead(QuicConnectionImpl connection) {
        try {
            return ((tech.kwik.core.crypto.ConnectionSecrets) get(CONNECTION_SECRETS, connection))
                    .getOwnAead(tech.kwik.core.common.EncryptionLevel.App);
        } catch (tech.kwik.core.crypto.MissingKeysException e) {
            throw new IllegalStateException("no 1-RTT keys yet", e);
        }
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

    /**
     * Server side: moves to the client's next unused connection ID (RFC 9000 9.5), without retiring the one used so
     * far: see {@link #serverRetirePeerId}.
     *
     * @return the old ID, the new ID and the old ID's sequence number (-1 if unknown), or null if the client has no
     *         unused connection ID left (nothing changed)
     */
    static Object[] serverUseNextPeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        tech.kwik.core.cid.ConnectionIdManager ids =
                (tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection);
        byte[] old = ids.getCurrentPeerConnectionId();
        int oldSequence = -1;
        for (Map.Entry<Integer, tech.kwik.core.cid.ConnectionIdInfo> entry : ids.getAllPeerConnectionIds().entrySet()) {
            if (java.util.Arrays.equals(entry.getValue().getConnectionId(), old)) {
                oldSequence = entry.getKey();
            }
        }
        byte[] next = ids.nextPeerId();
        if (next == null) {
            return null;
        }
        return new Object[]{old, next, oldSequence};
    }

    /**
     * Server side: the client connection ID {@link #serverUseNextPeerId} would move to (Kwik moves to the sequence
     * number after the current one), without moving; null if the client has not issued it or it was used already.
     */
    static byte[] serverPeekNextPeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        tech.kwik.core.cid.ConnectionIdManager ids =
                (tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection);
        byte[] current = ids.getCurrentPeerConnectionId();
        Map<Integer, tech.kwik.core.cid.ConnectionIdInfo> all = ids.getAllPeerConnectionIds();
        for (Map.Entry<Integer, tech.kwik.core.cid.ConnectionIdInfo> entry : all.entrySet()) {
            if (java.util.Arrays.equals(entry.getValue().getConnectionId(), current)) {
                tech.kwik.core.cid.ConnectionIdInfo next = all.get(entry.getKey() + 1);
                return next != null && next.getConnectionIdStatus() == tech.kwik.core.cid.ConnectionIdStatus.NEW
                        ? next.getConnectionId().clone() : null;
            }
        }
        return null;
    }

    /**
     * W25 (docs/kwik-workarounds.md#w25): takes the server's connection ID with sequence number 1 for the preferred_address
     * transport parameter, during the handshake (when the server's parameters are built). RFC 9000 5.1.1: "the sequence number of the connection
     * ID supplied in the preferred_address transport parameter is 1". Kwik knows nothing of preferred_address: its
     * next NEW_CONNECTION_ID would carry sequence 1 with another ID, and after the handshake it issues as many IDs
     * as the client's active_connection_id_limit allows, one too many with this one. So the ID is created in Kwik's
     * own registry (the next frames carry 2, 3, ...) and the number Kwik issues after the handshake is lowered by
     * one; {@link #restoreIssuedIdLimit} puts it back once those are out, so IDs the client retires are replaced
     * as before.
     *
     * @return the connection ID, not yet routable: see {@link #routePreferredAddressId}
     */
    static byte[] reservePreferredAddressId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        tech.kwik.core.cid.ConnectionIdInfo id =
                ((tech.kwik.core.cid.SourceConnectionIdRegistry) get(CID_MANAGER_OWN_REGISTRY, ids)).generateNew();
        if (id.getSequenceNumber() != 1) {
            throw new IllegalStateException("Kwik issued connection ID sequence " + id.getSequenceNumber()
                    + " before the handshake; preferred_address needs sequence 1");
        }
        set(CID_MANAGER_MAX_ISSUED, ids, (int) get(CID_MANAGER_MAX_ISSUED, ids) - 1);
        return id.getConnectionId();
    }

    /**
     * Once the handshake is complete: makes Kwik's server deliver packets addressed to the preferred_address
     * connection ID to this connection. (Earlier in the handshake the connection may not be registered under its
     * first ID yet.) See MigrationTlsEngineFactory for when exactly.
     */
    static void routePreferredAddressId(tech.kwik.core.server.impl.ServerConnectionImpl connection, byte[] id) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        ((tech.kwik.core.server.ServerConnectionRegistry) get(CID_MANAGER_CONNECTION_REGISTRY, ids))
                .registerAdditionalConnectionId(connection.getInitialConnectionId(), id);
    }

    /** Undoes {@link #reservePreferredAddressId}'s lowering of the issue limit; call once, after the handshake. */
    static void restoreIssuedIdLimit(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        set(CID_MANAGER_MAX_ISSUED, ids, (int) get(CID_MANAGER_MAX_ISSUED, ids) + 1);
    }

    /** The QUIC version a transport parameters extension was made for (Kwik has no getter). */
    static tech.kwik.core.impl.Version extensionVersion(tech.kwik.core.tls.QuicTransportParametersExtension extension) {
        return (tech.kwik.core.impl.Version) get(PARAMETERS_EXTENSION_VERSION, extension);
    }

    /**
     * Server side: retires a client connection ID no longer in use. Not right after switching away from it (W15,
     * docs/kwik-workarounds.md#w15): Kwik 0.10.9 may put the RETIRE_CONNECTION_ID frame into a packet it built with that very ID, and the client then
     * closes the connection with PROTOCOL_VIOLATION ("cannot retire current connection ID"; seen in 1 of 4 runs
     * of a hundred migrations).
     */
    static void serverRetirePeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection, int sequence) {
        ((tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection)).retireConnectionId(sequence);
    }

    /** Wakes Kwik's sender so queued frames leave now. */
    static void flush(QuicConnectionImpl connection) {
        ((tech.kwik.core.send.SenderImpl) invoke(GET_SENDER, connection)).flush();
    }

    /**
     * Whether Kwik's loss-detection timer is off while ack-eliciting packets are in flight, after the handshake is
     * confirmed: a state Kwik's own code never means to leave (W5, docs/kwik-workarounds.md#w5). Kwik 0.10.9's {@code setLossDetectionTimer()} decides
     * on one thread ("no ack-eliciting packet in flight") and acts later ({@code unschedule()}, which takes no lock);
     * a packet sent on the sender thread in between arms the timer, and the late {@code unschedule()} cancels it.
     * Then no PTO ever fires for those packets. If their acknowledgement was lost and they fill the congestion
     * window, nothing is sent again and the connection hangs until the idle timeout: one echo in about 1,400
     * through 2 % loss on a loaded 2-core machine (the stall report showed two packets in flight for 4.9 s, the
     * window full, "loss timer not armed").
     */
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
                || !handshakeConfirmed(connection)) {
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
        try {
            invoke(method(tech.kwik.core.recovery.RecoveryManager.class, "unschedule"),
                    get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("Kwik's RecoveryManager has no unschedule()", e);
        }
    }

    /** Lets Kwik set its loss-detection timer again from its own state (see {@link #lossTimerMissing}). */
    static void rearmLossTimer(QuicConnectionImpl connection) {
        invoke(RECOVERY_SET_LOSS_TIMER, get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
    }

    /**
     * Client side: whether the TLS engine has sent its ClientHello and waits for the ServerHello, or is further on
     * (see {@link ClientPathSocket#holdReceivedUntil}, W6: docs/kwik-workarounds.md#w6). agent15's status field is not volatile; this reads it anew
     * on each call, and the receiver thread that reads it here is the one that then hands the engine the ServerHello.
     */
    static boolean clientHelloSent(tech.kwik.core.impl.QuicClientConnectionImpl connection) {
        Object engine = get(CLIENT_TLS_ENGINE, connection);
        if (!TLS_CLIENT_ENGINE_STATUS.getDeclaringClass().isInstance(engine)) {
            return true; // another engine: nothing known to wait for
        }
        Object status = get(TLS_CLIENT_ENGINE_STATUS, engine);
        return status != null && !"Start".equals(((Enum<?>) status).name());
    }

    /**
     * Client side: makes the connection's TLS engine report its traffic secrets to {@code keyLog} (W31,
     * docs/kwik-workarounds.md#w31). agent15's client
     * engine is built inside Kwik's connection with the connection as its status handler (a final field, with no
     * seam to wrap it); this puts a {@link KeyLoggingHandler} in between, which reads the client random from the
     * engine's own ClientHello. Call before {@code connect()}. Logs once, and does nothing, for another engine.
     */
    static void logClientSecrets(tech.kwik.core.impl.QuicClientConnectionImpl connection, KeyLog keyLog) {
        Object engine = get(CLIENT_TLS_ENGINE, connection);
        if (!TLS_CLIENT_ENGINE_STATUS_HANDLER.getDeclaringClass().isInstance(engine)) {
            keyLog.failed(new IllegalStateException("unknown TLS engine " + engine.getClass().getName()));
            return;
        }
        tech.kwik.agent15.engine.TlsStatusEventHandler kwik =
                (tech.kwik.agent15.engine.TlsStatusEventHandler) get(TLS_CLIENT_ENGINE_STATUS_HANDLER, engine);
        if (kwik instanceof KeyLoggingHandler) {
            return;
        }
        KeyLoggingHandler handler = new KeyLoggingHandler(kwik, keyLog,
                () -> (tech.kwik.agent15.handshake.ClientHello) get(TLS_CLIENT_ENGINE_CLIENT_HELLO, engine));
        handler.secretsOf((tech.kwik.agent15.engine.TrafficSecrets) engine);
        set(TLS_CLIENT_ENGINE_STATUS_HANDLER, engine, handler); // a final field of a plain class: allowed once accessible
    }

    /** The PTO of the path in use, in milliseconds, as Kwik computes it. */
    static int ptoMillis(QuicConnectionImpl connection) {
        return ((tech.kwik.core.send.SenderImpl) invoke(GET_SENDER, connection)).getPto();
    }

    /** Kwik's probe timeouts in a row without an acknowledgement (RFC 9002 6.2's pto_count). */
    static int ptoCount(QuicConnectionImpl connection) {
        return (int) get(RECOVERY_PTO_COUNT, get(SENDER_RECOVERY_MANAGER, invoke(GET_SENDER, connection)));
    }

    /** Kwik's smoothed RTT in ms (its initial RTT before the first sample). */
    static int smoothedRttMillis(QuicConnectionImpl connection) {
        return (int) get(RTT_SMOOTHED, get(SENDER_RTT_ESTIMATOR, invoke(GET_SENDER, connection)));
    }

    /**
     * The server's transport parameters that matter to migration, as its client saw them; null before the
     * handshake gave them, and on the server side (Kwik 0.10.9 keeps a client's parameters to itself).
     */
    static org.quicmigration.core.trace.PeerParameters peerParameters(QuicConnectionImpl connection) {
        tech.kwik.core.impl.TransportParameters parameters =
                connection instanceof tech.kwik.core.impl.QuicClientConnectionImpl client ? client.getPeerTransportParameters() : null;
        if (parameters == null) {
            return null;
        }
        org.quicmigration.core.trace.PreferredAddress preferred;
        try {
            preferred = PeerPreferredAddress.of(parameters);
        } catch (org.quicmigration.core.TransportErrorException e) {
            preferred = null;
        }
        return new org.quicmigration.core.trace.PeerParameters(parameters.getDisableMigration(),
                parameters.getActiveConnectionIdLimit(), parameters.getMaxIdleTimeout(), parameters.getMaxAckDelay(),
                preferred == null ? null : preferred.ipv4(), preferred == null ? null : preferred.ipv6(),
                preferred == null ? null : preferred.connectionId(), preferred == null ? null : preferred.resetToken());
    }

    /** The destination connection ID of the client's first Initial packet (RFC 9000 7.3). */
    static org.quicmigration.core.ConnectionId originalDestinationId(QuicConnectionImpl connection) {
        byte[] id = connection instanceof tech.kwik.core.server.impl.ServerConnectionImpl server
                ? server.getOriginalDestinationConnectionId()
                : ((tech.kwik.core.cid.ConnectionIdManager) invoke(CLIENT_CID_MANAGER, connection))
                        .getOriginalDestinationConnectionId();
        return org.quicmigration.core.ConnectionId.of(id);
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
        Object sender = invoke(GET_SENDER, connection);
        declareLostSentBefore(sender, null, losses);
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
        set(RECOVERY_PTO_COUNT, get(SENDER_RECOVERY_MANAGER, sender), 0);
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
        Object cc = get(SENDER_CONGESTION_CONTROLLER, invoke(GET_SENDER, connection));
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
        Object rtt = get(SENDER_RTT_ESTIMATOR, invoke(GET_SENDER, connection));
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
    static void resendSentBefore(QuicConnectionImpl connection, java.time.Instant moved, Object[] congestionAtMove,
                                 DeclaredLosses losses) {
        Object sender = invoke(GET_SENDER, connection);
        Object cc = get(SENDER_CONGESTION_CONTROLLER, sender);
        if (!CC_SLOW_START_THRESHOLD.getDeclaringClass().isInstance(cc)) {
            declareLostSentBefore(sender, moved, losses);
            return;
        }
        Object[] before = congestionAtMove != null ? congestionAtMove : congestionState(connection);
        declareLostSentBefore(sender, moved, losses);
        long initialWindow = (long) (int) get(CC_INITIAL_WINDOW, null);
        synchronized (cc) {
            long window = Math.max((long) before[0], (long) get(CC_WINDOW, cc));
            boolean belowStart = window < initialWindow;
            set(CC_WINDOW, cc, belowStart ? initialWindow : window);
            set(CC_SLOW_START_THRESHOLD, cc, belowStart ? Long.MAX_VALUE : before[1]);
            set(CC_RECOVERY_START, cc, before[2]);
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
        Object sender = invoke(GET_SENDER, connection);
        set(RECOVERY_PTO_COUNT, get(SENDER_RECOVERY_MANAGER, sender), 0);
        resendSentBefore(connection, java.time.Instant.now(), null, losses);
        acknowledgeAllInNextPacket(connection);
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
    static Object[] congestionState(QuicConnectionImpl connection) {
        Object cc = get(SENDER_CONGESTION_CONTROLLER, invoke(GET_SENDER, connection));
        if (!CC_SLOW_START_THRESHOLD.getDeclaringClass().isInstance(cc)) {
            return null;
        }
        synchronized (cc) {
            return new Object[]{get(CC_WINDOW, cc), get(CC_SLOW_START_THRESHOLD, cc), get(CC_RECOVERY_START, cc)};
        }
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
    private static void declareLostSentBefore(Object sender, java.time.Instant cutoff, DeclaredLosses losses) {
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

    /** The connection's RTT estimator, to hand to {@link #keepRttAboveZero(Object)} on hot paths. */
    static Object rttEstimator(QuicConnectionImpl connection) {
        return get(SENDER_RTT_ESTIMATOR, invoke(GET_SENDER, connection));
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

    /** The congestion window and the bytes in flight, in bytes. */
    static long[] congestionWindowAndBytesInFlight(QuicConnectionImpl connection) {
        tech.kwik.core.cc.CongestionController cc = (tech.kwik.core.cc.CongestionController)
                get(SENDER_CONGESTION_CONTROLLER, invoke(GET_SENDER, connection));
        return new long[]{cc.getWindowSize(), cc.getBytesInFlight()};
    }

    /** A one-paragraph description of the connection's send side, for stall reports. */
    static String describeSendSide(QuicConnectionImpl connection) {
        StringBuilder text = new StringBuilder();
        try {
            tech.kwik.core.cc.CongestionController cc = (tech.kwik.core.cc.CongestionController)
                    get(SENDER_CONGESTION_CONTROLLER, invoke(GET_SENDER, connection));
            Object rtt = get(SENDER_RTT_ESTIMATOR, invoke(GET_SENDER, connection));
            text.append("congestion window ").append(cc.getWindowSize()).append(", in flight ").append(cc.getBytesInFlight())
                    .append(", srtt ").append(get(RTT_SMOOTHED, rtt)).append(" ms, rttvar ").append(get(RTT_VARIANCE, rtt))
                    .append(", latest ").append(get(RTT_LATEST, rtt));
            text.append("; receive limit granted ").append(connectionReceiveLimit(connection));
            describeRecovery(invoke(GET_SENDER, connection), text);
            for (Map.Entry<Integer, QuicStreamImpl> entry : streams(connection).entrySet()) {
                Object output = output(entry.getValue());
                text.append("; stream ").append(entry.getKey()).append(": ").append(sendState(entry.getValue(), output));
                if (OUTPUT_FLOW_CONTROLLER.getDeclaringClass().isInstance(output)) {
                    try {
                        text.append(", ").append(((tech.kwik.core.stream.FlowControl) get(OUTPUT_FLOW_CONTROLLER, output))
                                .getFlowControlBlockReason(entry.getValue()));
                    } catch (RuntimeException e) {
                        text.append(", not flow controlled");
                    }
                }
                text.append(", receive limit ").append(streamReceiveLimit(entry.getValue()));
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

    private static Object streamManager(QuicConnectionImpl connection) {
        return invoke(GET_STREAM_MANAGER, connection);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }

    private static Method method(Class<?> type, String name, Class<?>... parameters) throws NoSuchMethodException {
        Method method = type.getDeclaredMethod(name, parameters);
        method.setAccessible(true);
        return method;
    }

    private static Object get(Field field, Object target) {
        try {
            return field.get(target);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read Kwik field " + field, e);
        }
    }

    private static void set(Field field, Object target, Object value) {
        try {
            field.set(target, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot write Kwik field " + field, e);
        }
    }

    private static Object invoke(Method method, Object target, Object... arguments) {
        try {
            return method.invoke(target, arguments);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call Kwik method " + method, e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("Kwik method " + method + " failed", cause);
        }
    }
}
