package org.quicmigration;

import java.time.Instant;
import java.util.List;

/**
 * One QUIC packet a connection sent or received, for packet traces and timelines. Received packets are reported
 * after decryption; a client reports its handshake packets too if its listener was set on the builder, while a
 * server connection exists for its application only once its handshake is done, so it reports 1-RTT packets.
 *
 * @param time                   when it was sent or received
 * @param direction              sent or received
 * @param path                   the path it travelled: our address and the peer's
 * @param destinationConnectionId its destination connection ID in hex (empty for a zero-length ID)
 * @param packetNumber           its packet number, or -1 for packets that have none (Retry, Version Negotiation)
 * @param packetType             its type, named as qlog names it: {@code initial}, {@code handshake}, {@code 0RTT},
 *                               {@code 1RTT}, {@code retry}, {@code version_negotiation}
 * @param size                   its size in bytes, header and authentication tag included
 * @param frameTypes             its frames' types in order, named as qlog names them ({@code stream}, {@code ack},
 *                               {@code path_challenge}, ...); all PADDING of a packet counts as one {@code padding}
 */
public record PacketEvent(Instant time, Direction direction, NetworkPath path, String destinationConnectionId,
                          long packetNumber, String packetType, int size, List<String> frameTypes) {

    /** Whether we sent the packet or received it. */
    public enum Direction {
        SENT,
        RECEIVED
    }

    public PacketEvent {
        frameTypes = List.copyOf(frameTypes);
    }
}
