package org.quicmigration.kwik;

import java.net.DatagramPacket;
import java.net.SocketAddress;

/**
 * Internal: splits a datagram that starts with a Handshake or 0-RTT packet, so that Kwik gets that packet and the
 * rest of the datagram as two datagrams, one after the other.
 *
 * <p>Why (W7, docs/kwik-workarounds.md#w7): RFC 9000 12.2 says of coalesced packets that "if decryption fails (because the keys are not available or
 * for any other reason), the receiver MAY either discard or buffer the packet for later processing and MUST attempt
 * to process the remaining packets." Kwik 0.10.9 looks up the keys before it reads the packet's length, and when
 * they are discarded it drops the whole rest of the datagram, unlogged. A client sends its last Handshake ACK and its
 * first 1-RTT packet (the NEW_CONNECTION_ID frames) in one datagram; when that datagram reached a server that had
 * just confirmed the handshake and discarded its Handshake keys (RFC 9001 4.9.2), the 1-RTT packet was lost. The
 * client then declared it lost, halved its congestion window before sending any data, and got
 * its spare connection IDs to the server a probe timeout late (2 of 40 runs of a test; 6 of 40 with Kwik's packet log
 * on). Delivered on its own, the 1-RTT packet is processed.
 *
 * <p>Initial packets are never split off: a server must drop an Initial packet in a datagram of under 1,200 bytes
 * (RFC 9000 14.1). One instance per socket, used by the one thread that calls the socket's {@code receive}.
 *
 * @param <T> what the caller needs to remember of the datagram besides its source (the path it arrived on)
 */
final class CoalescedRest<T> {
    private static final int VERSION_1 = 0x00000001;
    private static final int VERSION_2 = 0x6b3343cf;
    private static final int MAX_CONNECTION_ID_LENGTH = 20;

    private byte[] rest = new byte[0];
    private int restLength;
    private SocketAddress restSource;
    private T restTag;

    /**
     * If {@code packet} starts with a Handshake or 0-RTT packet followed by more bytes, keeps the bytes after that
     * packet for {@link #takeInto} and shortens {@code packet} to its first packet.
     */
    void splitOff(DatagramPacket packet, T tag) {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        int length = packet.getLength();
        int first = firstPacketLength(data, offset, length);
        if (first <= 0) {
            return;
        }
        int restBytes = length - first;
        if (rest.length < restBytes) {
            rest = new byte[Math.max(restBytes, 1500)]; // once per socket: splits happen at handshakes only
        }
        System.arraycopy(data, offset + first, rest, 0, restBytes);
        restLength = restBytes;
        restSource = packet.getSocketAddress();
        restTag = tag;
        packet.setLength(first);
    }

    /**
     * Copies the kept rest into {@code packet} (as far as its buffer holds) with its source address, and returns
     * its tag; null if no rest is waiting.
     */
    T takeInto(DatagramPacket packet) {
        if (restLength == 0) {
            return null;
        }
        int length = Math.min(restLength, packet.getData().length - packet.getOffset());
        System.arraycopy(rest, 0, packet.getData(), packet.getOffset(), length);
        packet.setLength(length);
        packet.setSocketAddress(restSource);
        restLength = 0;
        T tag = restTag;
        restTag = null;
        restSource = null;
        return tag;
    }

    /**
     * The length of the datagram's first packet if it is a Handshake or 0-RTT packet of QUIC version 1 or 2 and more
     * bytes follow it; 0 otherwise, and for anything malformed (Kwik judges that as before).
     */
    static int firstPacketLength(byte[] data, int offset, int length) {
        if (length < 7 || (data[offset] & 0x80) == 0) {
            return 0; // short header (or too short): one packet to the end of the datagram
        }
        int version = ((data[offset + 1] & 0xff) << 24) | ((data[offset + 2] & 0xff) << 16)
                | ((data[offset + 3] & 0xff) << 8) | (data[offset + 4] & 0xff);
        int type = (data[offset] & 0x30) >> 4;
        // RFC 9000 17.2 (v1): Initial 0, 0-RTT 1, Handshake 2, Retry 3; RFC 9369 3.2 (v2): Initial 1, 0-RTT 2,
        // Handshake 3, Retry 0.
        boolean handshakeOrZeroRtt = version == VERSION_1 ? type == 1 || type == 2
                : version == VERSION_2 && (type == 2 || type == 3);
        if (!handshakeOrZeroRtt) {
            return 0;
        }
        int end = offset + length;
        int position = offset + 5;
        int destinationLength = data[position] & 0xff;
        position += 1 + destinationLength;
        if (destinationLength > MAX_CONNECTION_ID_LENGTH || position >= end) {
            return 0;
        }
        int sourceLength = data[position] & 0xff;
        position += 1 + sourceLength;
        if (sourceLength > MAX_CONNECTION_ID_LENGTH || position >= end) {
            return 0;
        }
        int lengthBytes = 1 << ((data[position] & 0xc0) >> 6);
        if (position + lengthBytes > end) {
            return 0;
        }
        long payloadLength = data[position] & 0x3f;
        for (int i = 1; i < lengthBytes; i++) {
            payloadLength = (payloadLength << 8) | (data[position + i] & 0xff);
        }
        position += lengthBytes;
        if (payloadLength <= 0 || payloadLength >= end - position) {
            return 0; // malformed, or nothing after it
        }
        return (int) (position + payloadLength - offset);
    }
}
