package org.quicmigration.kwik;

import tech.kwik.core.packet.QuicPacket;

/**
 * Internal: {@link ClientPathSocket}'s use of a {@link ProbeResealer}: a datagram that carries a validate-first
 * PATH_CHALLENGE ({@link RoutedProbeFrame#resealed}) is sealed again with its path's own destination ID before it
 * leaves (W20, docs/kwik-workarounds.md#w20), and the packet that left instead of Kwik's is kept for traces. Kwik's
 * sender thread only, but for {@link #use}.
 */
final class ClientProbeResealing {

    /** Seals validate-first challenges again for their new path; null until the connection exists. */
    private volatile ProbeResealer resealer;
    /** The last packet sealed again instead of Kwik's, for traces; sender thread only. */
    private QuicPacket lastResealed;

    /** Starts sealing validate-first challenges again with {@code resealer}. */
    void use(ProbeResealer resealer) {
        this.resealer = resealer;
    }

    /**
     * The datagram to send instead of Kwik's datagram at {@code offset}, if that carries a challenge to seal again;
     * else null.
     */
    byte[] resealed(byte[] data, int offset, int length, PathRoutes routes) {
        ProbeResealer probes = resealer;
        RoutedProbeFrame probe = probes == null ? null : RoutedProbeFrame.takeRoute();
        if (probe != null && probe.resealWith() != null) {
            ProbeResealer.Resealed resealed = probes.reseal(data, offset, length,
                    routes.destinationIdLength(data, offset), probe, RoutedProbeFrame.MIN_PROBE_DATAGRAM);
            if (resealed != null) {
                lastResealed = resealed.packet();
                return resealed.datagram();
            }
        }
        return null;
    }

    /**
     * The packet that left instead of {@code sent} if it was sealed again, else {@code sent}; call on Kwik's sender
     * thread, after the send.
     */
    QuicPacket sentInstead(QuicPacket sent) {
        QuicPacket resealed = lastResealed;
        if (resealed != null && java.util.Objects.equals(resealed.getPacketNumber(), sent.getPacketNumber())) {
            lastResealed = null;
            return resealed;
        }
        return sent;
    }
}
