package org.quicmigration.kwik;

import java.util.Comparator;
import java.util.PriorityQueue;

import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.stream.RetransmitBuffer;

/**
 * Internal: a stream's lost frames, resent lowest offset first, in place of Kwik's buffer (see
 * docs/kwik-workarounds.md#w32).
 *
 * <p>Kwik resends lost frames in the order it found them lost and, when a frame does not fit the room left in a
 * packet, sends its first part and queues the rest behind every other lost frame. After a move away from a dead
 * network a whole congestion window is lost at once and resent from the new path's initial window, where packets
 * are often cut short by the window: each cut left a few hundred bytes queued behind hundreds of kilobytes, and the
 * reader, which needs the stream in order, waited for them. A packet trace of an address removal at 25 ms each way
 * showed the reader stalled 335 ms on a 427-byte rest while 260 KB went out after it. The receiver can use nothing
 * beyond its first missing byte, so the lowest offset is always the most useful frame to resend: the rest of a split
 * frame comes next, not last.
 *
 * <p>Thread-safe: Kwik adds frames from the thread that declares them lost and takes them on its sender thread.
 */
final class OrderedRetransmitBuffer extends RetransmitBuffer {

    private static final Comparator<StreamFrame> BY_OFFSET = Comparator.comparingLong(StreamFrame::getOffset);

    private final PriorityQueue<StreamFrame> lost = new PriorityQueue<>(BY_OFFSET);
    private final DeclaredLosses declared;

    /** @param declared frames declared lost in bulk whose packets were acknowledged since; null for none */
    OrderedRetransmitBuffer(DeclaredLosses declared) {
        this.declared = declared;
    }

    @Override
    public synchronized void add(StreamFrame frame) {
        lost.add(frame);
    }

    /**
     * The lost frame with the lowest offset, or as much of its start as fits {@code maxFrameSize}; the rest stays
     * first in line. Frames whose packet was acknowledged after all are dropped, except the last one: Kwik asks for
     * a frame once it saw there is one, and queues its next request only after getting one. Null only if nothing is
     * lost.
     */
    @Override
    public synchronized StreamFrame getFrameToRetransmit(int maxFrameSize) {
        StreamFrame frame = lost.poll();
        while (frame != null && declared != null && !lost.isEmpty() && declared.delivered(frame)) {
            frame = lost.poll();
        }
        if (frame == null || frame.getFrameLength() <= maxFrameSize) {
            return frame;
        }
        int excess = frame.getFrameLength() - maxFrameSize;
        // At least one byte: Kwik asks only with room for a frame header and some data (its minimum frame size).
        int firstLength = Math.max(1, frame.getLength() - excess);
        if (firstLength >= frame.getLength()) {
            return frame;
        }
        byte[] data = frame.getStreamData();
        StreamFrame first = new StreamFrame(frame.getStreamId(), frame.getOffset(), data, 0, firstLength, false);
        lost.add(new StreamFrame(frame.getStreamId(), frame.getOffset() + firstLength, data, firstLength,
                frame.getLength() - firstLength, frame.isFinal()));
        return first;
    }

    @Override
    public synchronized boolean hasDataToRetransmit() {
        return !lost.isEmpty();
    }

    /** How many frames (or rests of frames) wait to be resent. */
    synchronized int size() {
        return lost.size();
    }
}
