package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.util.List;

import org.quicmigration.core.ConnectionId;

/**
 * Internal: a sink for what a client connection puts on the wire, for tests and diagnostics (the public packet
 * trace API builds on it later). Called on Kwik's sender thread: implementations copy what they keep, never block.
 * When no trace is set, the cost is one volatile read per datagram.
 */
public interface WireTrace {

    /** A datagram left on the path of {@code local}; {@code destination} is its short-header DCID, or null. */
    void datagramSent(InetSocketAddress local, ConnectionId destination, int length);

    /** Kwik sent a packet: its DCID, packet number, size and frame class names (e.g. "PathChallengeFrame"). */
    void packetSent(ConnectionId destination, long packetNumber, int size, List<String> frames);

    /** A RETIRE_CONNECTION_ID for {@code sequence} was in a sent packet. */
    default void retireSent(long sequence) {
    }
}
