package org.quicmigration.kwik;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.Range;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.packet.QuicPacket;

/**
 * Internal: the packets this library declared lost in bulk at a move (the recovery reset of RFC 9000 9.4), so that
 * an acknowledgement arriving for one of them afterwards cancels the resending of its stream data (see
 * docs/kwik-workarounds.md#w33).
 *
 * <p>At a move every packet in flight on the old path is declared lost at once, because after a network loss they
 * are. But some were received: they were on their way when the network went, or the old path still delivers for a
 * while, and their acknowledgements come back on the new path, often in the very packet that announced the move.
 * Kwik ignores an acknowledgement of a packet it counts as lost and resends its frames anyway, from the new path's
 * initial congestion window: a trace of an address removal at 25 ms each way showed the server resending 77 KB the
 * client already had, three round trips, before the first byte the client was missing. Here an acknowledgement
 * marks the stream frames of such a packet as delivered, and {@link OrderedRetransmitBuffer} drops them.
 *
 * <p>Thread-safe. Costs nothing per packet while nothing is recorded except keeping a reference to the last few
 * ACK frames, which covers an acknowledgement that was read just before the losses were declared.
 */
final class DeclaredLosses {

    /** At most this many packets are remembered; a window of 1200-byte packets of about 5 MB. */
    static final int MAX_PACKETS = 4096;
    private static final int RECENT_ACKS = 4;

    private final TreeMap<Long, StreamFrame[]> framesByPacket = new TreeMap<>();
    private final Set<StreamFrame> delivered = Collections.newSetFromMap(new IdentityHashMap<>());
    private final AckFrame[] recentAcks = new AckFrame[RECENT_ACKS];
    private int nextRecent;
    private volatile boolean recording;
    private long cancelled;

    /** Remembers the stream frames of {@code packets}, which are being declared lost; replaces earlier records. */
    synchronized void declared(List<QuicPacket> packets) {
        framesByPacket.clear();
        delivered.clear();
        for (QuicPacket packet : packets) {
            Long number = packet.getPacketNumber();
            if (number == null || framesByPacket.size() >= MAX_PACKETS) {
                continue;
            }
            List<QuicFrame> frames = packet.getFrames();
            int streams = 0;
            for (QuicFrame frame : frames) {
                streams += frame instanceof StreamFrame ? 1 : 0;
            }
            if (streams == 0) {
                continue;
            }
            StreamFrame[] ofPacket = new StreamFrame[streams];
            int i = 0;
            for (QuicFrame frame : frames) {
                if (frame instanceof StreamFrame stream) {
                    ofPacket[i++] = stream;
                }
            }
            framesByPacket.put(number, ofPacket);
        }
        recording = !framesByPacket.isEmpty();
        for (AckFrame ack : recentAcks) {
            if (ack != null) {
                acknowledge(ack);
            }
        }
    }

    /** An ACK frame received (Kwik's receiving thread, before Kwik processes it). */
    void acked(AckFrame ack) {
        if (!recording) {
            synchronized (this) {
                recentAcks[nextRecent] = ack;
                nextRecent = (nextRecent + 1) % RECENT_ACKS;
            }
            return;
        }
        synchronized (this) {
            acknowledge(ack);
        }
    }

    private void acknowledge(AckFrame ack) {
        for (Range range : ack.getAcknowledgedRanges()) {
            Map<Long, StreamFrame[]> covered = framesByPacket.subMap(range.getSmallest(), true, range.getLargest(), true);
            for (StreamFrame[] frames : covered.values()) {
                Collections.addAll(delivered, frames);
            }
            covered.clear();
        }
        recording = !framesByPacket.isEmpty();
    }

    /**
     * Whether {@code frame} was declared lost but its packet acknowledged since; each such frame is reported once
     * (the buffer drops it then).
     */
    synchronized boolean delivered(StreamFrame frame) {
        if (delivered.remove(frame)) {
            cancelled++;
            return true;
        }
        return false;
    }

    /** How many resends of delivered frames were cancelled so far. */
    synchronized long cancelled() {
        return cancelled;
    }
}
