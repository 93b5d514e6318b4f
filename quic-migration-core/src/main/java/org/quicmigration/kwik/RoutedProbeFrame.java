package org.quicmigration.kwik;

import java.nio.ByteBuffer;

import tech.kwik.core.frame.FrameProcessor;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.packet.PacketMetaData;
import tech.kwik.core.packet.QuicPacket;

import org.quicmigration.core.Tuple;

/**
 * Internal: a PATH_CHALLENGE or PATH_RESPONSE frame (RFC 9000 19.17, 19.18) that must leave on one particular
 * path, followed by as many PADDING bytes as that path's anti-amplification budget allows.
 *
 * <p>Kwik builds every packet for the connection's one peer address and pads its own path frames to 1200 bytes
 * whatever the budget (W19, docs/kwik-workarounds.md#w19). This frame is queued as a probe (a packet of its own) and, when Kwik serialises it on its
 * sender thread just before handing the datagram to the socket, leaves the target address in a thread-local
 * "route" that {@link ServerPathSocket#send} takes. So the datagram carrying this frame, and only it, takes
 * {@link #path}.
 */
final class RoutedProbeFrame extends QuicFrame {

    static final int PATH_CHALLENGE = 0x1a;
    static final int PATH_RESPONSE = 0x1b;

    /** RFC 9000 8.2.1: datagrams with PATH_CHALLENGE or PATH_RESPONSE are expanded to 1200 bytes if allowed. */
    static final int MIN_PROBE_DATAGRAM = 1200;
    /** Room left for an ACK frame Kwik may put in front of a probe frame. */
    private static final int ACK_ALLOWANCE = 48;

    private static final ThreadLocal<RoutedProbeFrame> ROUTE = new ThreadLocal<>();

    private final int type;
    private final byte[] data;
    /** Known once set, or once {@link #budgetWhenSent} was read; -1 until then. */
    private volatile int padding;
    /** For a frame sized when Kwik builds its packet: the path's budget then, and the ID length; else null. */
    private final java.util.function.LongSupplier budgetWhenSent;
    private final int peerIdLength;
    private final Tuple path;
    /** For a challenge on a path not in use yet: the destination ID its packet is sealed again with, else null. */
    private final byte[] resealWith;
    private volatile java.util.function.LongConsumer onDeparture;
    /** Whether the frame's packet is taken out of Kwik's loss recovery once sent (the server core decides). */
    private volatile boolean leavesRecovery;

    /**
     * A frame whose datagram is at least 1200 bytes if {@code budget} allows that, else as large as the budget
     * allows (RFC 9000 8.2.1).
     *
     * @param peerIdLength the length of the destination connection ID the packet will carry
     * @param budget       bytes that may be sent on the path (Long.MAX_VALUE if unlimited)
     * @param path         the path (server address and client address) the datagram must take, or null to leave
     *                     routing to the socket layer
     */
    static RoutedProbeFrame sized(int type, byte[] data, int peerIdLength, long budget, Tuple path) {
        return new RoutedProbeFrame(type, data, paddingFor(budget, peerIdLength), path);
    }

    /**
     * As {@link #sized}, but sized for the budget the path has when Kwik builds the frame's packet, not when it is
     * queued: RFC 9000 8.2.1 and 8.2.2 ask for 1200 bytes "unless the anti-amplification limit for the path does
     * not permit sending a datagram of this size", and the limit grows with every datagram that arrives from the
     * path meanwhile. A client's first datagram on a new path is often a small one with its 1200-byte challenge right
     * behind it: sized when queued, the server's challenge left in 52 bytes with 3,783 bytes of budget by the time it
     * did. {@code budget} is read once, on Kwik's sender thread.
     */
    static RoutedProbeFrame sizedWhenSent(int type, byte[] data, int peerIdLength,
                                          java.util.function.LongSupplier budget, Tuple path) {
        return new RoutedProbeFrame(type, data, -1, budget, peerIdLength, path, null);
    }

    private static int paddingFor(long budget, int peerIdLength) {
        int smallestOverhead = 1 + peerIdLength + 1 + 16; // first byte, DCID, 1-byte packet number, AEAD tag
        int largestOverhead = 1 + peerIdLength + 4 + 16 + ACK_ALLOWANCE;
        if (budget >= MIN_PROBE_DATAGRAM + largestOverhead - smallestOverhead) {
            return MIN_PROBE_DATAGRAM - 9 - smallestOverhead;
        }
        return (int) Math.max(0, budget - 9 - largestOverhead);
    }

    /** Whether a packet with this frame, and a destination ID of {@code peerIdLength} bytes, has 1200 bytes or more. */
    boolean fillsMinimumDatagram(int peerIdLength) {
        return getFrameLength() + 1 + peerIdLength + 1 + 16 >= MIN_PROBE_DATAGRAM;
    }

    /**
     * A client's PATH_CHALLENGE for a path it does not use yet (validate first, then switch: RFC 9000 9.1). Kwik
     * builds it into a packet with the active path's destination ID; {@link ClientPathSocket#send} seals that packet
     * again, with the same packet number, carrying only this challenge and PADDING to 1200 bytes and {@code peerId}
     * as its destination ID, so it leaves on the new path as a probing packet (see {@link ProbeResealer}).
     */
    static RoutedProbeFrame resealed(byte[] data, byte[] peerId) {
        return new RoutedProbeFrame(PATH_CHALLENGE, data, 0, null, 0, null, peerId.clone());
    }

    RoutedProbeFrame(int type, byte[] data, int padding, Tuple path) {
        this(type, data, Math.max(0, padding), null, 0, path, null);
    }

    private RoutedProbeFrame(int type, byte[] data, int padding, java.util.function.LongSupplier budgetWhenSent,
                             int peerIdLength, Tuple path, byte[] resealWith) {
        if (data.length != 8) {
            throw new IllegalArgumentException("path frames carry 8 bytes, not " + data.length);
        }
        this.type = type;
        this.data = data.clone();
        this.padding = padding;
        this.budgetWhenSent = budgetWhenSent;
        this.peerIdLength = peerIdLength;
        this.path = path;
        this.resealWith = resealWith;
    }

    /** The probe serialised last on this thread, if it names a target; cleared by taking it; null if none. */
    static RoutedProbeFrame takeRoute() {
        RoutedProbeFrame route = ROUTE.get();
        if (route != null) {
            ROUTE.remove();
        }
        return route;
    }

    /** The destination ID this challenge's packet is to be sealed again with (see {@link #resealed}), or null. */
    byte[] resealWith() {
        return resealWith;
    }

    /** The path the datagram must take, or null. */
    Tuple path() {
        return path;
    }

    /** {@link #PATH_CHALLENGE} or {@link #PATH_RESPONSE}. */
    int type() {
        return type;
    }

    /** The same frame, to be sealed again with {@code peerId} as destination ID (see {@link ProbeResealer}). */
    RoutedProbeFrame resealedWith(byte[] peerId) {
        return new RoutedProbeFrame(type, data, padding, budgetWhenSent, peerIdLength, path, peerId.clone())
                .onDeparture(onDeparture).leavingRecovery(leavesRecovery);
    }

    /** Marks whether this frame's packet leaves Kwik's loss recovery once sent (see {@link #leavesRecovery}). */
    RoutedProbeFrame leavingRecovery(boolean leaves) {
        this.leavesRecovery = leaves;
        return this;
    }

    /** Whether this frame's packet is to be taken out of Kwik's loss recovery once sent. */
    boolean leavesRecovery() {
        return leavesRecovery;
    }

    boolean isChallenge() {
        return type == PATH_CHALLENGE;
    }

    /** The 8 bytes of challenge or response data (a copy). */
    byte[] data() {
        return data.clone();
    }

    /** How many PADDING bytes follow the frame in its packet; for a frame sized when sent, fixed at the first call. */
    int padding() {
        int known = padding;
        if (known < 0) {
            known = paddingFor(budgetWhenSent.getAsLong(), peerIdLength);
            padding = known;
        }
        return known;
    }

    /**
     * Calls {@code listener} with {@link System#nanoTime()} when Kwik serialises this frame on its sender thread,
     * that is when its packet leaves, so a path validation measures its round trip from the real departure.
     */
    RoutedProbeFrame onDeparture(java.util.function.LongConsumer listener) {
        this.onDeparture = listener;
        return this;
    }

    /** The same frame without padding, or null if this one has none: for a path whose budget was too small. */
    RoutedProbeFrame unpadded() {
        return padding() == 0 ? null
                : new RoutedProbeFrame(type, data, 0, null, 0, path, resealWith).onDeparture(onDeparture)
                        .leavingRecovery(leavesRecovery);
    }

    @Override
    public int getFrameLength() {
        return 1 + data.length + padding();
    }

    @Override
    public void serialize(ByteBuffer buffer) {
        buffer.put((byte) type);
        buffer.put(data);
        for (int i = 0, n = padding(); i < n; i++) {
            buffer.put((byte) 0); // PADDING frames (RFC 9000 19.1)
        }
        if (path != null || resealWith != null) {
            ROUTE.set(this);
        }
        java.util.function.LongConsumer listener = onDeparture;
        if (listener != null) {
            listener.accept(System.nanoTime());
        }
    }

    /** The name Kwik's own frame class of this type has, for traces. */
    String kwikName() {
        return type == PATH_CHALLENGE ? "PathChallengeFrame" : "PathResponseFrame";
    }

    @Override
    public void accept(FrameProcessor processor, QuicPacket packet, PacketMetaData metaData) {
        // only ever sent, never received
    }

    @Override
    public String toString() {
        return (type == PATH_CHALLENGE ? "PathChallenge" : "PathResponse") + "[" + java.util.HexFormat.of().formatHex(data)
                + " on " + path + ", padding " + padding + "]";
    }
}
