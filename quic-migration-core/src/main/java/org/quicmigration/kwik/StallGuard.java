package org.quicmigration.kwik;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.MaxDataFrame;
import tech.kwik.core.frame.MaxStreamDataFrame;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.frame.StreamDataBlockedFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.stream.QuicStreamImpl;

/**
 * Internal: keeps a Kwik 0.10.9 connection from stalling on its own bugs, each measured and each named in
 * docs/kwik-workarounds.md:
 *
 * <ul>
 * <li><b>W1, lost send request</b> (docs/kwik-workarounds.md#w1). Kwik's stream output checks "no request queued", queues a request to the sender
 *     thread and only then increments its request counter. If the sender runs the request in between, it
 *     decrements first, sees -1, and does not queue a follow-up; the counter returns to 0 with data still
 *     buffered and no request queued. When the writer is blocked on the full send buffer (or has closed the
 *     stream) nothing ever queues a new request: the stream stalls until the idle timeout. On 2-core loopback
 *     this hit a 2 MB echo within the first few transfers. The guard looks at every stream each
 *     {@link #TICK_MILLIS} ms and, if one has sendable data, credit, no queued request and has not moved since the
 *     last tick, queues the missing request (counter raised first).</li>
 * <li><b>W2, lost MAX_DATA</b> (docs/kwik-workarounds.md#w2). Kwik sends MAX_DATA without a loss callback and ignores the peer's DATA_BLOCKED and
 *     STREAM_DATA_BLOCKED. When a MAX_DATA is lost the peer stays blocked for good. The guard answers every
 *     DATA_BLOCKED / STREAM_DATA_BLOCKED below the limit we granted by re-sending MAX_DATA / MAX_STREAM_DATA, and
 *     re-sends such an answer if it is lost while the limit still stands (RFC 9000 13.3: "The most recent
 *     MAX_DATA frame ... is sent until acknowledged").</li>
 * <li><b>W10, a silent client behind a NAT that rebound it</b> (docs/kwik-workarounds.md#w10; client side only). When the NAT gives the client a
 *     new binding while the client has nothing to send (it waits for data, or for flow-control credit), every
 *     server packet goes to the dead old binding and is lost, the server's probes too, and the client, with
 *     nothing in flight, never speaks: the connection idles out. Measured: 2 of 3 echo transfers died this way
 *     with the client's port rebound every 100 ms. So a client with open streams that has heard nothing for
 *     the shorter of one PTO and two smoothed RTTs (at least {@link #SILENCE_BEFORE_PING_MILLIS} ms) sends a PING,
 *     which reaches the server from the
 *     new binding and lets the server follow it (RFC 9000 9.3); without an answer the wait doubles, up to
 *     {@link #MAX_SILENCE_MILLIS} ms, and after {@link #MAX_PINGS_WITHOUT_AN_ANSWER} PINGs that got nothing but
 *     acknowledgements it stops, so the idle timeout still ends a connection that is stuck for another reason.</li>
 * <li><b>W4, a lost send request after the last frame</b> (docs/kwik-workarounds.md#w4). Kwik forgets a stream once its final frame has been
 *     <em>sent</em> and its input is closed, not once that frame is acknowledged. If the last frames are then
 *     lost, they wait in the stream's retransmit buffer behind the same lost-request race as in W1, and nothing
 *     looks at that stream any more: PTO probes only resend frames of packets still in flight, not those of
 *     packets already declared lost. Measured: an echo through 2 % loss stalled for good in about 1 run of 200
 *     transfers in 5, the client waiting for the tail. So the guard keeps watching a stream's output for
 *     {@link #RETIRED_WATCH_MILLIS} ms after Kwik forgot it (at most {@link #MAX_RETIRED_WATCHED} such streams)
 *     and queues the missing request when lost frames wait with none queued on two ticks in a row.</li>
 * <li><b>W3, zero smoothed RTT</b> (docs/kwik-workarounds.md#w3). See {@link KwikCongestion#keepRttAboveZero(Object)}: checked before every received
 *     packet by {@link FrameObserver}, and here at every tick as a second line.</li>
 * <li><b>W5, a cancelled loss-detection timer</b> (docs/kwik-workarounds.md#w5). A race in Kwik can leave ack-eliciting packets in flight with no
 *     loss timer ({@link KwikRecovery#lossTimerMissing}); if their acknowledgement was lost and they fill the
 *     congestion window, nothing is ever sent again (the PING of W10 waits behind the window too). When that
 *     state lasts two ticks in a row, the guard lets Kwik set its timer again, and its PTO probe recovers.</li>
 * </ul>
 *
 * <p>All work runs on the binding's thread ({@link BindingThreads}), never on Kwik's threads; per connection it costs one check of
 * each open stream per tick and nothing per packet.
 */
final class StallGuard {

    private static final System.Logger LOG = System.getLogger(StallGuard.class.getName());

    static final long TICK_MILLIS = 25;
    static final long SILENCE_BEFORE_PING_MILLIS = 50;
    static final long MAX_SILENCE_MILLIS = 5_000;
    static final int MAX_PINGS_WITHOUT_AN_ANSWER = 6;
    /** How long a forgotten stream's output is watched after it last had lost frames to resend. */
    static final long RETIRED_WATCH_MILLIS = 10_000;
    static final int MAX_RETIRED_WATCHED = 4_096;

    private static final ScheduledExecutorService SCHEDULER = BindingThreads.SCHEDULER;

    private final QuicConnectionImpl connection;
    private final Map<Integer, Long> offsetsAtLastTick = new HashMap<>();
    /** Stream outputs seen, by stream id; those Kwik no longer lists are watched for lost frames (W4). */
    private final java.util.LinkedHashMap<Integer, Watched> outputs = new java.util.LinkedHashMap<>();
    private final AtomicLong sendRequestsRestored = new AtomicLong();
    private final AtomicLong finalFramesRestored = new AtomicLong();
    private final AtomicLong creditReadvertised = new AtomicLong();
    private final AtomicLong silencePings = new AtomicLong();
    private final AtomicLong lossTimersRearmed = new AtomicLong();
    private boolean lossTimerMissingAtLastTick;
    private final boolean client;
    private volatile long lastReceivedNanos = System.nanoTime();
    private volatile int pingsSinceTheServerSpoke;
    private long pingInterval;
    private long nextPingAtSilence;
    private volatile ScheduledFuture<?> ticking;

    private StallGuard(QuicConnectionImpl connection, boolean client) {
        this.connection = connection;
        this.client = client;
    }

    static StallGuard start(QuicConnectionImpl connection) {
        return start(connection, false);
    }

    /** @param client true on the client side, which also breaks a NAT-rebinding silence with a PING */
    static StallGuard start(QuicConnectionImpl connection, boolean client) {
        KwikCongestion.keepRttAboveZero(connection);
        StallGuard guard = new StallGuard(connection, client);
        guard.ticking = SCHEDULER.scheduleWithFixedDelay(guard::tickSafely, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        return guard;
    }

    void stop() {
        ScheduledFuture<?> running = ticking;
        if (running != null) {
            running.cancel(false);
        }
    }

    /** How many lost send requests were restored so far. */
    long sendRequestsRestored() {
        return sendRequestsRestored.get();
    }

    /** How many of those were for streams Kwik had already forgotten (W4). */
    long finalFramesRestored() {
        return finalFramesRestored.get();
    }

    /** How many times Kwik's loss-detection timer was found cancelled with packets in flight and set again (W5). */
    long lossTimersRearmed() {
        return lossTimersRearmed.get();
    }

    /** How many MAX_DATA / MAX_STREAM_DATA frames were re-sent for a blocked peer so far. */
    long creditReadvertised() {
        return creditReadvertised.get();
    }

    /** Called on Kwik's receiver thread for every packet received (client side). */
    void packetReceived(boolean ackEliciting) {
        lastReceivedNanos = System.nanoTime();
        if (ackEliciting) {
            pingsSinceTheServerSpoke = 0;
        }
    }

    /** How many PINGs broke a silence so far. */
    long silencePings() {
        return silencePings.get();
    }

    /** Called on Kwik's receiver thread when the peer says it is blocked at {@code limit}; returns at once. */
    void peerDataBlocked(DataBlockedFrame frame) {
        long peerLimit = KwikStreams.dataBlockedLimit(frame);
        SCHEDULER.execute(() -> readvertiseConnectionCredit(peerLimit));
    }

    /** Called on Kwik's receiver thread when the peer says a stream is blocked; returns at once. */
    void peerStreamDataBlocked(StreamDataBlockedFrame frame) {
        int streamId = frame.getStreamId();
        long peerLimit = frame.getStreamDataLimit();
        SCHEDULER.execute(() -> readvertiseStreamCredit(streamId, peerLimit));
    }

    private void readvertiseConnectionCredit(long peerLimit) {
        try {
            long granted = KwikStreams.connectionReceiveLimit(connection);
            if (granted > peerLimit) {
                creditReadvertised.incrementAndGet();
                connection.send(new MaxDataFrame(granted), lost -> SCHEDULER.execute(() -> readvertiseConnectionCredit(peerLimit)), true);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot re-advertise connection credit", e);
        }
    }

    private void readvertiseStreamCredit(int streamId, long peerLimit) {
        try {
            QuicStreamImpl stream = KwikStreams.streams(connection).get(streamId);
            if (stream == null) {
                return; // closed meanwhile
            }
            long granted = KwikStreams.streamReceiveLimit(stream);
            if (granted > peerLimit) {
                creditReadvertised.incrementAndGet();
                connection.send(new MaxStreamDataFrame(streamId, granted),
                        lost -> SCHEDULER.execute(() -> readvertiseStreamCredit(streamId, peerLimit)), true);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot re-advertise stream credit", e);
        }
    }

    private void breakSilence(boolean streamsOpen) {
        // Two round trips without a single packet, while streams are open, is a strong sign that the server is
        // sending to a binding that no longer exists; waiting for a full PTO (which adds four RTT variances and the
        // peer's ack delay) made each NAT rebinding at 25 ms each way cost over 200 ms of silence.
        long base = TimeUnit.MILLISECONDS.toNanos(Math.max(SILENCE_BEFORE_PING_MILLIS,
                Math.min(KwikRecovery.ptoMillis(connection), 2L * KwikCongestion.smoothedRttMillis(connection))));
        long silent = System.nanoTime() - lastReceivedNanos;
        if (silent < base || !streamsOpen) {
            pingInterval = base;
            nextPingAtSilence = base;
            return;
        }
        if (silent >= nextPingAtSilence && pingsSinceTheServerSpoke < MAX_PINGS_WITHOUT_AN_ANSWER) {
            // Bounded: a server that only acknowledges our PINGs (a stall elsewhere) must not keep the connection
            // alive for ever; after a few unanswered PINGs the idle timeout decides, as it would without them.
            pingsSinceTheServerSpoke++;
            silencePings.incrementAndGet();
            // Not padded: a full-size PING would raise the server's budget at an unvalidated new binding (RFC 9000
            // 8), but measured, it made the handover after a NAT rebinding slower (median 141 ms against 101 ms at
            // 25 ms each way, 7 runs each).
            connection.send(new PingFrame(), lost -> { }, true);
            pingInterval = Math.min(pingInterval * 2, TimeUnit.MILLISECONDS.toNanos(MAX_SILENCE_MILLIS));
            nextPingAtSilence = silent + pingInterval;
        }
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            // Never let the shared thread die; a broken check only costs this connection its guard.
            LOG.log(System.Logger.Level.WARNING, "stall guard check failed; stopping it for this connection", e);
            stop();
        }
    }

    private void tick() {
        KwikCongestion.keepRttAboveZero(connection);
        watchLossTimer();
        Map<Integer, QuicStreamImpl> streams = KwikStreams.streams(connection);
        if (client) {
            breakSilence(!streams.isEmpty());
        }
        offsetsAtLastTick.keySet().retainAll(streams.keySet());
        watchForgottenStreams(streams);
        for (Map.Entry<Integer, QuicStreamImpl> entry : streams.entrySet()) {
            QuicStreamImpl stream = entry.getValue();
            Object output = KwikStreams.output(stream);
            Watched watched = outputs.get(entry.getKey());
            if (watched == null || watched.output != output) {
                outputs.put(entry.getKey(), new Watched(output));
            }
            KwikStreams.SendState state = KwikStreams.sendState(stream, output);
            if (state == null) {
                continue;
            }
            Long previous = offsetsAtLastTick.put(entry.getKey(), state.offset());
            boolean stuck = state.hasData() && !state.closedOrReset() && state.requestsQueued() <= 0
                    && state.flowControlLimit() > state.offset()
                    && previous != null && previous == state.offset();
            if (stuck) {
                sendRequestsRestored.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, () -> "restoring lost send request for stream " + entry.getKey()
                        + " at offset " + state.offset());
                KwikStreams.queueSendRequest(connection, output);
            }
        }
    }

    /** W5 (docs/kwik-workarounds.md#w5): two ticks in a row without a loss timer while packets are in flight is Kwik's race, not a moment. */
    private void watchLossTimer() {
        boolean missing = KwikRecovery.lossTimerMissing(connection);
        if (missing && lossTimerMissingAtLastTick) {
            lossTimersRearmed.incrementAndGet();
            LOG.log(System.Logger.Level.DEBUG, "re-arming Kwik's cancelled loss-detection timer");
            KwikRecovery.rearmLossTimer(connection);
            missing = false;
        }
        lossTimerMissingAtLastTick = missing;
    }

    /** W4 (docs/kwik-workarounds.md#w4): restores the send request of forgotten streams whose lost frames wait with none queued. */
    private void watchForgottenStreams(Map<Integer, QuicStreamImpl> streams) {
        if (outputs.isEmpty()) {
            return;
        }
        long idleTicksAllowed = RETIRED_WATCH_MILLIS / TICK_MILLIS;
        int forgotten = 0;
        for (java.util.Iterator<Map.Entry<Integer, Watched>> it = outputs.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Watched> entry = it.next();
            if (streams.containsKey(entry.getKey())) {
                continue;
            }
            forgotten++;
            Watched watched = entry.getValue();
            Boolean waiting = KwikStreams.retransmitWaitsWithoutRequest(watched.output);
            if (waiting == null) {
                it.remove();
                continue;
            }
            if (waiting && watched.waitingAtLastTick) {
                sendRequestsRestored.incrementAndGet();
                finalFramesRestored.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, () -> "restoring lost send request for the final frames of stream "
                        + entry.getKey());
                KwikStreams.queueSendRequest(connection, watched.output);
                waiting = false;
            }
            watched.waitingAtLastTick = waiting;
            watched.idleTicks = waiting ? 0 : watched.idleTicks + 1;
            if (watched.idleTicks > idleTicksAllowed) {
                it.remove();
            }
        }
        if (forgotten > MAX_RETIRED_WATCHED) {
            // Oldest first (insertion order): a connection with very many short streams watches the newest ones.
            int excess = forgotten - MAX_RETIRED_WATCHED;
            for (java.util.Iterator<Integer> it = outputs.keySet().iterator(); it.hasNext() && excess > 0; ) {
                if (!streams.containsKey(it.next())) {
                    it.remove();
                    excess--;
                }
            }
        }
    }

    /** A stream output the guard has seen; the fields are used by the guard's thread only. */
    private static final class Watched {
        final Object output;
        boolean waitingAtLastTick;
        long idleTicks;

        Watched(Object output) {
            this.output = output;
        }
    }
}
