package org.quicmigration.core.trace;

import java.time.Instant;
import java.util.List;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * One QUIC packet sent or received, after decryption (received) or as built (sent).
 *
 * @param time         when it was sent or received (wall clock)
 * @param sent         true if we sent it
 * @param tuple        the path it travelled: our address and the peer's
 * @param destination  its destination connection ID (empty for a zero-length ID)
 * @param packetNumber its packet number, or -1 for packets without one (retry, version negotiation)
 * @param type         its type
 * @param size         its size in bytes, header and AEAD tag included
 * @param frames       its frames, in order
 */
public record TracedPacket(Instant time, boolean sent, Tuple tuple, ConnectionId destination, long packetNumber,
                           PacketType type, int size, List<TracedFrame> frames) {
}
