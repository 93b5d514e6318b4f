package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.stream.RetransmitBuffer;

class OrderedRetransmitBufferTest {

    private static final int STREAM = 4;

    private static StreamFrame frame(long offset, int length, boolean fin) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (offset + i);
        }
        return new StreamFrame(STREAM, offset, data, fin);
    }

    /** Takes everything, each time with room for {@code room} bytes of frame; returns the frames in order taken. */
    private static List<StreamFrame> drain(RetransmitBuffer buffer, int room) {
        List<StreamFrame> taken = new ArrayList<>();
        while (buffer.hasDataToRetransmit()) {
            StreamFrame next = buffer.getFrameToRetransmit(room);
            assertThat(next.getFrameLength()).as("frame within the room given").isLessThanOrEqualTo(room);
            taken.add(next);
        }
        return taken;
    }

    @Test
    void theRestOfASplitFrameComesNextNotBehindEveryOtherLostFrame() {
        RetransmitBuffer ordered = new OrderedRetransmitBuffer(null);
        RetransmitBuffer kwik = new RetransmitBuffer();
        for (RetransmitBuffer buffer : List.of(ordered, kwik)) {
            buffer.add(frame(0, 1000, false));
            buffer.add(frame(1000, 1000, false));
            buffer.add(frame(2000, 1000, false));
        }
        int room = frame(0, 600, false).getFrameLength();

        // A larger offset takes a longer frame header, so a frame at 1000 or more splits after 599 bytes.
        assertThat(drain(ordered, room)).extracting(StreamFrame::getOffset).containsExactly(0L, 600L, 1000L, 1599L,
                2000L, 2599L);
        // Kwik's own buffer, which this one replaces: the rest of each split frame goes to the back of the line.
        assertThat(drain(kwik, room)).extracting(StreamFrame::getOffset).containsExactly(0L, 1000L, 2000L, 600L,
                1599L, 2599L);
    }

    @Test
    void framesFoundLostOutOfOrderAreResentLowestOffsetFirst() {
        RetransmitBuffer buffer = new OrderedRetransmitBuffer(null);
        buffer.add(frame(5000, 100, true));
        buffer.add(frame(0, 100, false));
        buffer.add(frame(2500, 100, false));

        assertThat(drain(buffer, 1200)).extracting(StreamFrame::getOffset).containsExactly(0L, 2500L, 5000L);
    }

    @Test
    void framesOfAPacketDeclaredLostButAcknowledgedAfterAllAreNotResent() {
        DeclaredLosses declared = new DeclaredLosses();
        RetransmitBuffer buffer = new OrderedRetransmitBuffer(declared);
        List<StreamFrame> frames = new ArrayList<>();
        List<tech.kwik.core.packet.QuicPacket> packets = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            StreamFrame frame = frame(i * 1000L, 1000, false);
            frames.add(frame);
            tech.kwik.core.packet.ShortHeaderPacket packet = new tech.kwik.core.packet.ShortHeaderPacket(
                    tech.kwik.core.impl.Version.getDefault(), new byte[8], frame);
            packet.setPacketNumber(100 + i);
            packets.add(packet);
        }
        // Packet 101 was acknowledged just before the losses were declared (read by us, not yet by Kwik).
        declared.acked(new tech.kwik.core.frame.AckFrame(new tech.kwik.core.frame.Range(101, 101)));
        declared.declared(packets);
        frames.forEach(buffer::add); // what Kwik's lost callbacks do
        // The peer had received 102 to 103 and 105 after all: the acknowledgement comes on the new path.
        declared.acked(new tech.kwik.core.frame.AckFrame(List.of(new tech.kwik.core.frame.Range(105, 105),
                new tech.kwik.core.frame.Range(102, 103))));

        assertThat(drain(buffer, 1200)).extracting(StreamFrame::getOffset)
                .as("only what the peer is missing, and the last frame (Kwik waits for one once it saw one)")
                .containsExactly(0L, 4000L, 5000L);
        assertThat(declared.cancelled()).isEqualTo(3);
    }

    @Test
    void splittingKeepsEveryByteAndTheFinalFlagOnTheLastPart() {
        RetransmitBuffer buffer = new OrderedRetransmitBuffer(null);
        Random random = new Random(3);
        int total = 0;
        for (int i = 0; i < 20; i++) {
            buffer.add(frame(total, 700 + i, i == 19));
            total += 700 + i;
        }
        byte[] resent = new byte[total];
        long expectedOffset = 0;
        List<StreamFrame> taken = new ArrayList<>();
        while (buffer.hasDataToRetransmit()) {
            taken.add(buffer.getFrameToRetransmit(40 + random.nextInt(1200)));
        }
        for (StreamFrame part : taken) {
            assertThat(part.getOffset()).as("parts in stream order, without gaps").isEqualTo(expectedOffset);
            System.arraycopy(part.getStreamData(), 0, resent, (int) part.getOffset(), part.getLength());
            expectedOffset += part.getLength();
            assertThat(part.isFinal()).as("FIN only on the last byte's part").isEqualTo(expectedOffset == total);
        }
        assertThat(expectedOffset).isEqualTo(total);
        for (int i = 0; i < total; i++) {
            assertThat(resent[i]).isEqualTo((byte) i);
        }
    }
}
