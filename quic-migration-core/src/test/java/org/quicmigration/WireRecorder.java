package org.quicmigration;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.kwik.WireTrace;

/** Test helper: records what a client connection put on the wire. */
final class WireRecorder implements WireTrace {

    record Datagram(InetSocketAddress local, ConnectionId destination, int length) {
    }

    record Packet(ConnectionId destination, long number, int size, List<String> frames) {
    }

    final List<Datagram> datagrams = new CopyOnWriteArrayList<>();
    final List<Packet> packets = new CopyOnWriteArrayList<>();
    final List<Long> retired = new CopyOnWriteArrayList<>();

    @Override
    public void datagramSent(InetSocketAddress local, ConnectionId destination, int length) {
        datagrams.add(new Datagram(local, destination, length));
    }

    @Override
    public void packetSent(ConnectionId destination, long packetNumber, int size, List<String> frames) {
        packets.add(new Packet(destination, packetNumber, size, List.copyOf(frames)));
    }

    @Override
    public void retireSent(long sequence) {
        retired.add(sequence);
    }
}
