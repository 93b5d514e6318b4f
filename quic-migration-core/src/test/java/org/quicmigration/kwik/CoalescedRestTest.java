package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class CoalescedRestTest {

    private static final int V1 = 0x00000001;
    private static final int V2 = 0x6b3343cf;
    private static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 4433);

    @Test
    void aHandshakePacketIsSplitFromTheOneRttPacketAfterIt() {
        byte[] handshake = longHeader(V1, 2, 30);
        byte[] oneRtt = shortHeader(50);
        byte[] datagram = concat(handshake, oneRtt);
        CoalescedRest<String> rest = new CoalescedRest<>();
        DatagramPacket packet = received(datagram, 7);

        rest.splitOff(packet, "wifi");

        assertThat(slice(packet)).as("Kwik first gets the Handshake packet alone").isEqualTo(handshake);
        DatagramPacket next = new DatagramPacket(new byte[1500], 1500);
        assertThat(rest.takeInto(next)).isEqualTo("wifi");
        assertThat(slice(next)).as("then the 1-RTT packet").isEqualTo(oneRtt);
        assertThat(next.getSocketAddress()).isEqualTo(PEER);
        assertThat(rest.takeInto(new DatagramPacket(new byte[1500], 1500))).as("only once").isNull();
    }

    @Test
    void twoLongHeaderPacketsComeOffOneAtATime() {
        byte[] zeroRtt = longHeader(V2, 2, 40);
        byte[] handshake = longHeader(V2, 3, 20);
        byte[] oneRtt = shortHeader(60);
        CoalescedRest<String> rest = new CoalescedRest<>();
        DatagramPacket packet = received(concat(zeroRtt, handshake, oneRtt), 0);

        rest.splitOff(packet, "path");
        assertThat(slice(packet)).isEqualTo(zeroRtt);
        DatagramPacket second = new DatagramPacket(new byte[1500], 1500);
        rest.takeInto(second);
        rest.splitOff(second, "path");
        assertThat(slice(second)).isEqualTo(handshake);
        DatagramPacket third = new DatagramPacket(new byte[1500], 1500);
        rest.takeInto(third);
        assertThat(slice(third)).isEqualTo(oneRtt);
    }

    @Test
    void initialsRetriesShortHeadersSinglePacketsAndOtherVersionsStayWhole() {
        byte[] initialV1 = concat(longHeader(V1, 0, 30), shortHeader(20));
        assertThat(CoalescedRest.firstPacketLength(initialV1, 0, initialV1.length)).as("v1 Initial").isZero();
        byte[] initialV2 = concat(longHeader(V2, 1, 30), shortHeader(20));
        assertThat(CoalescedRest.firstPacketLength(initialV2, 0, initialV2.length)).as("v2 Initial").isZero();
        byte[] retryV1 = concat(longHeader(V1, 3, 30), shortHeader(20));
        assertThat(CoalescedRest.firstPacketLength(retryV1, 0, retryV1.length)).as("v1 Retry").isZero();
        byte[] handshakeAlone = longHeader(V1, 2, 30);
        assertThat(CoalescedRest.firstPacketLength(handshakeAlone, 0, handshakeAlone.length))
                .as("nothing after it").isZero();
        byte[] shorts = shortHeader(100);
        assertThat(CoalescedRest.firstPacketLength(shorts, 0, shorts.length)).isZero();
        byte[] unknownVersion = concat(longHeader(0x0a0a0a0a, 2, 30), shortHeader(20));
        assertThat(CoalescedRest.firstPacketLength(unknownVersion, 0, unknownVersion.length)).isZero();
        byte[] handshake = longHeader(V1, 2, 30);
        byte[] both = concat(handshake, shortHeader(20));
        assertThat(CoalescedRest.firstPacketLength(both, 0, both.length)).isEqualTo(handshake.length);
    }

    @Test
    void malformedHeadersAreLeftToKwik() {
        byte[] handshake = longHeader(V1, 2, 30);
        byte[] datagram = concat(handshake, shortHeader(20));
        // A length field longer than the datagram.
        byte[] tooLong = datagram.clone();
        int lengthAt = 1 + 4 + 1 + 8 + 1 + 8;
        tooLong[lengthAt] = (byte) 0x7f;
        tooLong[lengthAt + 1] = (byte) 0xff;
        assertThat(CoalescedRest.firstPacketLength(tooLong, 0, tooLong.length)).isZero();
        // A connection ID length over 20.
        byte[] badId = datagram.clone();
        badId[5] = 21;
        assertThat(CoalescedRest.firstPacketLength(badId, 0, badId.length)).isZero();
        // Every truncation of the header parses to "leave it whole" without an exception.
        for (int length = 0; length < lengthAt + 2; length++) {
            assertThat(CoalescedRest.firstPacketLength(datagram, 0, length)).as("first %d bytes", length).isZero();
        }
    }

    /** A long-header packet: first byte with the type bits, the version, two 8-byte IDs, a 2-byte length, payload. */
    private static byte[] longHeader(int version, int type, int payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xc0 | (type << 4) | 0x01);
        out.write(version >>> 24);
        out.write(version >>> 16);
        out.write(version >>> 8);
        out.write(version);
        out.write(8);
        out.writeBytes(filled(8, 0x11));
        out.write(8);
        out.writeBytes(filled(8, 0x22));
        out.write(0x40 | (payload >> 8));
        out.write(payload & 0xff);
        out.writeBytes(filled(payload, 0x33));
        return out.toByteArray();
    }

    private static byte[] shortHeader(int length) {
        byte[] packet = filled(length, 0x44);
        packet[0] = 0x41;
        return packet;
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** As a socket would deliver {@code datagram}: into a larger buffer at {@code offset}. */
    private static DatagramPacket received(byte[] datagram, int offset) {
        byte[] buffer = new byte[1500];
        System.arraycopy(datagram, 0, buffer, offset, datagram.length);
        DatagramPacket packet = new DatagramPacket(buffer, offset, datagram.length);
        packet.setSocketAddress(PEER);
        return packet;
    }

    private static byte[] slice(DatagramPacket packet) {
        return Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
    }
}
