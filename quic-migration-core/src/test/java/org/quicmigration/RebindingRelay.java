package org.quicmigration;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import org.quicmigration.relay.Datagram;
import org.quicmigration.relay.Policy;
import org.quicmigration.relay.UdpRelay;

/**
 * Test relay on loopback that plays a NAT ({@link UdpRelay}, one binding for all clients): the client talks to
 * {@link #address()}, and the relay forwards to the server from its current outside binding. {@link #rebind}
 * replaces that binding with a new one (a new port, and the given address) and closes the old one, so the server's
 * datagrams to the old binding are lost, as in the QUIC interop runner's rebind-port and rebind-addr tests. It can
 * also divert a client datagram to an attacker's socket, and counts the bytes that cross each outside address in each
 * direction.
 */
final class RebindingRelay implements AutoCloseable {

    private final InetSocketAddress server;
    private final Map<InetSocketAddress, LongAdder> bytesToServer = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, LongAdder> bytesFromServer = new ConcurrentHashMap<>();
    private volatile DatagramSocket divertNextTo;
    private volatile Function<byte[], byte[]> prefixFor;
    private final UdpRelay relay;

    RebindingRelay(InetSocketAddress server, InetAddress outsideAddress) throws IOException {
        this.server = server;
        Policy prefixing = this::prefix;
        Policy diverting = this::divert;
        this.relay = UdpRelay.builder(server).name("rebinding-relay").outside(outsideAddress)
                .toServer(prefixing.then(diverting).then(Policy.countBytes(bytesToServer)))
                .toClient(Policy.countBytes(bytesFromServer).then(prefixing))
                .start();
    }

    InetSocketAddress address() {
        return relay.address();
    }

    /** The address the server sees the client at now. */
    InetSocketAddress outsideAddress() {
        return relay.bindingAddresses().get(0);
    }

    /** The NAT gives the client a new binding on {@code address}; the old binding stops working at once. */
    void rebind(InetAddress address) throws IOException {
        relay.rebindAll(address, UdpRelay.OldBinding.DROP);
    }

    long rebinds() {
        return relay.rebinds();
    }

    /**
     * An on-path attacker: the next client datagram reaches the server from {@code attacker} instead of from the
     * client's binding (so the copy the client sent never arrives from the real address).
     */
    void divertNextDatagramTo(DatagramSocket attacker) {
        this.divertNextTo = attacker;
    }

    /**
     * From now on, each datagram in either direction that starts with a short-header (1-RTT) packet gets what
     * {@code prefixFor} makes of its bytes put in front of it, coalesced into the same datagram.
     */
    void prefixShortHeaderDatagrams(Function<byte[], byte[]> prefixFor) {
        this.prefixFor = prefixFor;
    }

    long bytesToServerFrom(InetSocketAddress outside) {
        LongAdder count = bytesToServer.get(outside);
        return count == null ? 0 : count.sum();
    }

    long bytesFromServerTo(InetSocketAddress outside) {
        LongAdder count = bytesFromServer.get(outside);
        return count == null ? 0 : count.sum();
    }

    /** Counts what the server sends to a socket the test owns (an attacker's), by reading it until closed. */
    void countFromServer(DatagramSocket socket) {
        InetSocketAddress self = (InetSocketAddress) socket.getLocalSocketAddress();
        Thread thread = new Thread(() -> {
            DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
            try {
                while (!socket.isClosed()) {
                    packet.setLength(65_536);
                    socket.receive(packet);
                    count(bytesFromServer, self, packet.getLength());
                }
            } catch (IOException e) {
                // closed
            }
        }, "attacker-reader");
        thread.setDaemon(true);
        thread.start();
    }

    /** A failure of the relay itself (a test bug, such as a prefix function that throws), or null. */
    RuntimeException failure() {
        return relay.failure();
    }

    /** Puts a prefix in front of a datagram that starts with a short-header packet, if one is asked for. */
    private void prefix(Datagram datagram) {
        Function<byte[], byte[]> prefixing = prefixFor;
        byte[] original = datagram.bytes();
        if (prefixing == null || original.length == 0 || (original[0] & 0x80) != 0) {
            return;
        }
        byte[] prefix = prefixing.apply(original);
        byte[] both = new byte[prefix.length + original.length];
        System.arraycopy(prefix, 0, both, 0, prefix.length);
        System.arraycopy(original, 0, both, prefix.length, original.length);
        datagram.rewrite(both);
    }

    /** Sends the datagram from the attacker's socket instead, if {@link #divertNextDatagramTo} asked for it. */
    private void divert(Datagram datagram) {
        DatagramSocket attacker = divertNextTo;
        if (attacker == null) {
            return;
        }
        divertNextTo = null;
        datagram.drop();
        byte[] bytes = datagram.bytes();
        try {
            attacker.send(new DatagramPacket(bytes, bytes.length, server));
            count(bytesToServer, (InetSocketAddress) attacker.getLocalSocketAddress(), bytes.length);
        } catch (IOException e) {
            // the attacker's socket is closed: nothing reaches the server
        }
    }

    private static void count(Map<InetSocketAddress, LongAdder> counts, InetSocketAddress key, int bytes) {
        counts.computeIfAbsent(key, k -> new LongAdder()).add(bytes);
    }

    @Override
    public void close() {
        relay.close();
    }
}
