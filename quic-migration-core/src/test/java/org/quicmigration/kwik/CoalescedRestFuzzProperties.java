package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.quicmigration.Fuzz;

/**
 * {@link CoalescedRest} under datagrams a peer or an attacker can send: coalesced long-header packets of QUIC
 * versions 1, 2 and others, of every type, with connection IDs of 0 to 255 bytes, Length fields in every varint size
 * that match, point past the end, or say 2^62 - 1, then the same datagrams truncated, with bits flipped, bytes
 * overwritten or junk appended, and noise. The split must never throw, must give back every byte of the datagram
 * exactly once, in order, and must match an independent reading of the header (RFC 9000 17.2, RFC 9369 3.2).
 */
class CoalescedRestFuzzProperties {

    private static final int V1 = 0x00000001;
    private static final int V2 = 0x6b3343cf;
    private static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 4433);

    @Property(tries = 400)
    void theFirstPacketsLengthIsWhatItsHeaderSaysOrZero(@ForAll("datagrams") byte[] datagram,
                                                        @ForAll @IntRange(max = 40) int offset,
                                                        @ForAll @IntRange(max = 40) int slack) {
        byte[] buffer = new byte[offset + datagram.length + slack];
        Arrays.fill(buffer, (byte) 0x41); // what lies outside the datagram must not be read as part of it
        System.arraycopy(datagram, 0, buffer, offset, datagram.length);

        Fuzz.Outcome<Integer> split = Fuzz.run(() -> CoalescedRest.firstPacketLength(buffer, offset, datagram.length))
                .failedOnlyWith();

        assertThat(split.value()).as("split point of %s", hex(datagram)).isEqualTo(reference(datagram));
    }

    @Property(tries = 400)
    void theSplitGivesBackEveryByteOnceInOrder(@ForAll("datagrams") byte[] datagram,
                                               @ForAll @IntRange(max = 40) int offset) {
        byte[] buffer = new byte[offset + Math.max(datagram.length, 1500)];
        System.arraycopy(datagram, 0, buffer, offset, datagram.length);
        DatagramPacket packet = new DatagramPacket(buffer, offset, datagram.length, PEER);
        CoalescedRest<String> rest = new CoalescedRest<>();

        Fuzz.Outcome<List<DatagramPacket>> pieces = Fuzz.run(() -> {
            List<DatagramPacket> delivered = new ArrayList<>();
            rest.splitOff(packet, "path");
            delivered.add(packet);
            DatagramPacket next = new DatagramPacket(new byte[1500], 1500);
            String tag;
            while ((tag = rest.takeInto(next)) != null && delivered.size() <= datagram.length) {
                if (!tag.equals("path") || !next.getSocketAddress().equals(PEER)) {
                    throw new AssertionError("a rest came with tag " + tag + " from " + next.getSocketAddress());
                }
                rest.splitOff(next, tag); // as the server's socket does with a rest
                delivered.add(next);
                next = new DatagramPacket(new byte[1500], 1500);
            }
            return delivered;
        }).failedOnlyWith();
        pieces.allocatedAtMost(2_000L * pieces.value().size() + Fuzz.ALLOCATION_SLACK);

        assertThat(pieces.value().size()).as("pieces of a %d-byte datagram", datagram.length)
                .isLessThanOrEqualTo(Math.max(1, datagram.length));
        byte[] joined = Fuzz.concat(pieces.value().stream().map(piece -> Arrays.copyOfRange(piece.getData(),
                piece.getOffset(), piece.getOffset() + piece.getLength())).toList());
        assertThat(joined).as("the pieces of %s", hex(datagram)).isEqualTo(datagram);
    }

    @Property(tries = 100)
    void aRestLargerThanTheBufferItGoesIntoIsCutNotOverrun(@ForAll("coalesced") byte[] datagram,
                                                           @ForAll @IntRange(min = 0, max = 100) int room) {
        CoalescedRest<String> rest = new CoalescedRest<>();
        DatagramPacket packet = new DatagramPacket(datagram.clone(), datagram.length, PEER);
        rest.splitOff(packet, "path");
        byte[] small = new byte[room + 10];
        DatagramPacket next = new DatagramPacket(small, 10, room);

        Fuzz.run(() -> rest.takeInto(next)).failedOnlyWith();

        int restLength = datagram.length - packet.getLength();
        if (restLength > 0) {
            assertThat(next.getLength()).as("bytes of the rest delivered").isEqualTo(Math.min(restLength, room));
            assertThat(Arrays.copyOfRange(small, 10, 10 + next.getLength()))
                    .isEqualTo(Arrays.copyOfRange(datagram, packet.getLength(), packet.getLength() + next.getLength()));
        }
    }

    // ---- the reference: RFC 9000 17.2 read with a ByteBuffer, anything short or odd meaning "do not split" ----

    private static int reference(byte[] datagram) {
        ByteBuffer in = ByteBuffer.wrap(datagram);
        try {
            int first = in.get() & 0xff;
            if ((first & 0x80) == 0) {
                return 0;
            }
            int version = in.getInt();
            int type = (first >> 4) & 0x03;
            boolean splittable = version == V1 ? type == 1 || type == 2 : version == V2 && (type == 2 || type == 3);
            int dcid = in.get() & 0xff;
            if (!splittable || dcid > 20) {
                return 0;
            }
            in.position(in.position() + dcid);
            int scid = in.get() & 0xff;
            if (scid > 20) {
                return 0;
            }
            in.position(in.position() + scid);
            int lengthByte = in.get() & 0xff;
            long length = lengthByte & 0x3f;
            for (int i = 1; i < 1 << (lengthByte >> 6); i++) {
                length = (length << 8) | (in.get() & 0xff);
            }
            if (length == 0 || length >= in.remaining()) {
                return 0; // nothing after the packet, or a packet that does not fit
            }
            return (int) (in.position() + length);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return 0;
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<byte[]> datagrams() {
        return Arbitraries.oneOf(Fuzz.damaged(coalesced()), hugeLengths());
    }

    /** One to three long-header packets of any version and type, maybe a short-header packet after them. */
    @Provide
    Arbitrary<byte[]> coalesced() {
        return Combinators.combine(longHeader().list().ofMinSize(1).ofMaxSize(3),
                        Arbitraries.oneOf(Arbitraries.just(new byte[0]), shortHeader()))
                .as((packets, tail) -> Fuzz.concat(Fuzz.concat(packets), tail));
    }

    /** A Handshake packet whose Length field says anything, from 0 to 2^62 - 1, with a few bytes after it. */
    private Arbitrary<byte[]> hugeLengths() {
        return Combinators.combine(Arbitraries.of(V1, V2), Fuzz.lengths().flatMap(Fuzz::varint), Fuzz.noise(80))
                .as((version, length, rest) -> Fuzz.concat(new byte[]{(byte) (version == V1 ? 0xe0 : 0xf0)},
                        ByteBuffer.allocate(4).putInt(version).array(), new byte[]{4, 1, 2, 3, 4, 0}, length, rest));
    }

    private Arbitrary<byte[]> longHeader() {
        Arbitrary<Integer> versions = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(4, V1), net.jqwik.api.Tuple.of(4, V2), net.jqwik.api.Tuple.of(1, 0),
                net.jqwik.api.Tuple.of(1, 0x0a0a0a0a));
        Arbitrary<byte[]> ids = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(9, Fuzz.noise(20)),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMinSize(21).ofMaxSize(255)));
        Arbitrary<byte[]> payloads = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300);
        return Combinators.combine(versions, Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 15),
                        ids, ids, payloads, Arbitraries.of(1, 2, 4, 8), Fuzz.noise(8))
                .as((version, type, low, dcid, scid, payload, lengthSize, token) -> {
                    byte first = (byte) (0xc0 | (type << 4) | low);
                    boolean initial = version == V1 ? type == 0 : version == V2 && type == 1;
                    byte[] header = Fuzz.concat(new byte[]{first}, ByteBuffer.allocate(4).putInt(version).array(),
                            new byte[]{(byte) dcid.length}, dcid, new byte[]{(byte) scid.length}, scid);
                    byte[] tokenField = initial ? Fuzz.concat(Fuzz.varint(token.length, 1), token) : new byte[0];
                    int size = payload.length < 0x40 ? lengthSize : payload.length < 0x4000 ? Math.max(2, lengthSize)
                            : Math.max(4, lengthSize);
                    return Fuzz.concat(header, tokenField, Fuzz.varint(payload.length, size), payload);
                });
    }

    private Arbitrary<byte[]> shortHeader() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(200).map(bytes -> {
            bytes[0] = (byte) (0x40 | (bytes[0] & 0x3f));
            return bytes;
        });
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
