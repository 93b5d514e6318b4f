package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.stream.QuicStreamImpl;
import tech.kwik.core.stream.StreamManager;

/**
 * Internal: Kwik's streams and their flow control: what the stall guard reads and the ordered resend buffer
 * replaces. Each member is looked up by name where it is declared, when the class loads; {@link
 * KwikInternals#verify()} reports any that is missing at start-up.
 */
final class KwikStreams {

    private static final String STREAM_OUTPUT_CLASS = "tech.kwik.core.stream.StreamOutputStreamImpl";
    private static final Class<?> OUTPUT_TYPE = KwikMembers.type(STREAM_OUTPUT_CLASS);
    private static final String STREAM_INPUT_CLASS = "tech.kwik.core.stream.StreamInputStreamImpl";
    private static final String SEND_BUFFER_CLASS = "tech.kwik.core.stream.SendBuffer";
    private static final String RETRANSMIT_BUFFER_CLASS = "tech.kwik.core.stream.RetransmitBuffer";
    private static final Method GET_STREAM_MANAGER = KwikMembers.method(QuicConnectionImpl.class, "getStreamManager");
    private static final Field STREAMS = KwikMembers.field(StreamManager.class, "streams");
    private static final Field CONNECTION_FLOW_CONTROL_MAX = KwikMembers.field(StreamManager.class, "flowControlMax");
    private static final Field STREAM_OUTPUT = KwikMembers.field(QuicStreamImpl.class, "outputStream");
    private static final Field STREAM_INPUT = KwikMembers.field(QuicStreamImpl.class, "inputStream");
    private static final Field OUTPUT_SEND_BUFFER = KwikMembers.field(OUTPUT_TYPE, "sendBuffer");
    private static final Field OUTPUT_RETRANSMIT_BUFFER = KwikMembers.field(OUTPUT_TYPE, "retransmitBuffer");
    private static final Field OUTPUT_CURRENT_OFFSET = KwikMembers.field(OUTPUT_TYPE, "currentOffset");
    private static final Field OUTPUT_SEND_REQUESTS_QUEUED = KwikMembers.field(OUTPUT_TYPE, "sendRequestsQueued");
    private static final Field OUTPUT_RESET = KwikMembers.field(OUTPUT_TYPE, "reset");
    private static final Field OUTPUT_ABORTED = KwikMembers.field(OUTPUT_TYPE, "aborted");
    static final Field OUTPUT_FLOW_CONTROLLER = KwikMembers.field(OUTPUT_TYPE, "flowController");
    private static final Field OUTPUT_MIN_FRAME_SIZE = KwikMembers.field(OUTPUT_TYPE, "MIN_FRAME_SIZE");
    private static final Method OUTPUT_SEND_STREAM_FRAME =
            KwikMembers.method(OUTPUT_TYPE, "sendStreamFrame", int.class);
    private static final Method OUTPUT_RETRANSMIT_STREAM_FRAME =
            KwikMembers.method(OUTPUT_TYPE, "retransmitStreamFrame", QuicFrame.class);
    private static final Method SEND_BUFFER_HAS_DATA =
            KwikMembers.method(KwikMembers.type(SEND_BUFFER_CLASS), "hasData");
    private static final Method RETRANSMIT_BUFFER_HAS_DATA =
            KwikMembers.method(KwikMembers.type(RETRANSMIT_BUFFER_CLASS), "hasDataToRetransmit");
    private static final Field INPUT_RECEIVER_LIMIT =
            KwikMembers.field(KwikMembers.type(STREAM_INPUT_CLASS), "receiverFlowControlLimit");
    private static final Field DATA_BLOCKED_LIMIT = KwikMembers.field(DataBlockedFrame.class, "streamDataLimit");

    private KwikStreams() {
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

    private static Object streamManager(QuicConnectionImpl connection) {
        return invoke(GET_STREAM_MANAGER, connection);
    }
}
