package org.quicmigration.kwik;

import tech.kwik.core.crypto.Aead;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.impl.Version;
import tech.kwik.core.packet.ShortHeaderPacket;

/**
 * Internal: turns the 1-RTT packet Kwik built around a path frame meant for a path not in use yet into a probing
 * packet with that path's own destination connection ID: a client's validate-first PATH_CHALLENGE
 * ({@link RoutedProbeFrame#resealed}), or a server's PATH_CHALLENGE or PATH_RESPONSE on a path the client probed
 * with a new connection ID.
 *
 * <p>Why (W20, docs/kwik-workarounds.md#w20): to validate a path before moving to it (RFC 9000 9.1, "an endpoint MAY probe for peer reachability from
 * a new local address using path validation prior to migrating the connection to the new local address"), the
 * probe must carry a destination connection ID of its own (9.5: "An endpoint MUST NOT reuse a connection ID when
 * sending from more than one local address") while the active path keeps using its own. Kwik builds every packet
 * with the one destination ID it has. So Kwik builds the challenge's packet as usual and takes a packet number for
 * it; this class reads that number back (removing header protection, RFC 9001 5.4) and seals a new packet under the
 * same number and the same 1-RTT key: the new path's ID, the path frame and PADDING up to 1200 bytes (RFC 9000
 * 8.2.1) or what the path's budget allows. Kwik's packet never leaves. (The server side's reason is the mirror
 * rule, 9.5: "an endpoint MUST NOT reuse a connection ID when sending to more than one destination address".)
 *
 * <p>Only probing frames go: an ACK frame Kwik may have put in front of the path frame is dropped, because an ACK
 * would make the packet non-probing and move the server (9.3). The cost of that is bounded: when the server
 * acknowledges the packet, Kwik believes its ACK arrived and stops repeating those ranges, so the server may
 * retransmit a few packets it had in fact delivered.
 *
 * <p>Runs on Kwik's sender thread, once per challenge; not a hot path.
 */
final class ProbeResealer {

    /** RFC 9001 5.4.2: the header-protection sample starts 4 bytes after the packet number's first byte. */
    private static final int SAMPLE_OFFSET = 4;
    private static final int SAMPLE_LENGTH = 16;
    private static final int AEAD_TAG_LENGTH = 16;
    private static final int PATH_FRAME_LENGTH = 9;

    private static final long UNUSABLE_PACKET_NUMBER = (1L << 62) - 1;

    private final java.util.function.Supplier<Aead> ownAead;
    private final java.util.function.Supplier<Version> version;

    ProbeResealer(QuicConnectionImpl connection) {
        this(() -> KwikHandshake.ownApplicationAead(connection), () -> Version.of(connection.getQuicVersion()));
    }

    /** With the 1-RTT key this endpoint seals with, and the connection's QUIC version, each read when sealing. */
    ProbeResealer(java.util.function.Supplier<Aead> ownAead, java.util.function.Supplier<Version> version) {
        this.ownAead = ownAead;
        this.version = version;
    }

    /** A packet sealed again: its bytes, and the packet itself for traces. */
    record Resealed(byte[] datagram, ShortHeaderPacket packet) {
    }

    /**
     * @param datagram   Kwik's datagram: one short-header packet whose destination ID is {@code idLength} bytes
     * @param probe      the path frame that packet carries, naming the destination ID to seal with
     * @param targetSize the size of the new datagram: 1200 bytes (RFC 9000 8.2.1), or less where the path's
     *                   anti-amplification budget allowed less
     * @return the packet to send instead, exactly {@code targetSize} bytes when that is at least the smallest such
     *         packet, or null if the datagram is not a 1-RTT packet Kwik built that can be read back
     */
    Resealed reseal(byte[] datagram, int offset, int length, int idLength, RoutedProbeFrame probe, int targetSize) {
        int packetNumberOffset = offset + 1 + idLength;
        if (length < 1 + idLength + SAMPLE_OFFSET + SAMPLE_LENGTH || (datagram[offset] & 0x80) != 0) {
            return null;
        }
        Aead aead = ownAead.get();
        byte[] sample = java.util.Arrays.copyOfRange(datagram, packetNumberOffset + SAMPLE_OFFSET,
                packetNumberOffset + SAMPLE_OFFSET + SAMPLE_LENGTH);
        byte[] mask = aead.createHeaderProtectionMask(sample);
        int flags = (datagram[offset] ^ (mask[0] & 0x1f)) & 0xff;
        int packetNumberLength = (flags & 0x03) + 1;
        // Kwik writes packet numbers whole (1 to 4 bytes, as many as the number needs), so no truncation to undo.
        long packetNumber = 0;
        for (int i = 0; i < packetNumberLength; i++) {
            packetNumber = (packetNumber << 8) | ((datagram[packetNumberOffset + i] ^ mask[1 + i]) & 0xff);
        }
        if (packetNumberLength != encodedLength(packetNumber)) {
            // Not a packet Kwik built (damaged, or not ours): the new packet would encode the number in fewer bytes
            // than counted below and come out smaller than the target size.
            return null;
        }
        byte[] peerId = probe.resealWith();
        int overhead = 1 + peerId.length + packetNumberLength + AEAD_TAG_LENGTH;
        int padding = Math.max(0, targetSize - overhead - PATH_FRAME_LENGTH);
        RoutedProbeFrame frame = new RoutedProbeFrame(probe.type(), probe.data(), padding, null);
        ShortHeaderPacket packet = new ShortHeaderPacket(version.get(), peerId, frame);
        packet.setPacketNumber(packetNumber);
        // The JDK's AES-GCM and ChaCha20-Poly1305 refuse two encryptions in a row under the same key and nonce, the
        // guard against nonce reuse. Kwik's packet, sealed under this packet number a moment ago, never leaves the
        // process, so only one ciphertext under this nonce ever reaches the wire. A throw-away encryption under a
        // nonce no packet can have (packet number 2^62 - 1 is beyond the largest a connection may use, RFC 9000
        // 12.3, and beyond what Kwik can encode) makes the cipher accept the packet's.
        aead.aeadEncrypt(new byte[0], new byte[0], nonce(aead.getIv(), UNUSABLE_PACKET_NUMBER));
        return new Resealed(packet.generatePacketBytes(aead), packet);
    }

    /** The bytes Kwik (and the packet sealed here) encodes {@code packetNumber} in: as many as it needs. */
    private static int encodedLength(long packetNumber) {
        return packetNumber <= 0xff ? 1 : packetNumber <= 0xffff ? 2 : packetNumber <= 0xffffff ? 3 : 4;
    }

    /** RFC 9001 5.3: the packet number, left-padded to the IV's length, XORed with the IV. */
    private static byte[] nonce(byte[] iv, long packetNumber) {
        byte[] nonce = iv.clone();
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (packetNumber >>> (8 * i));
        }
        return nonce;
    }
}
