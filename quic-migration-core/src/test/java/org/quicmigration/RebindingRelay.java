package org.quicmigration;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test relay on loopback that plays a NAT: the client talks to {@link #address()}, and the relay forwards to the
 * server from its current "outside" socket. {@link #rebind(InetAddress)} replaces that socket with a new one (a new
 * port, and the given address) and closes the old one, so the server's datagrams to the old binding are lost, as
 * in the QUIC interop runner's rebind-port and rebind-addr tests. It can also divert a client datagram to an
 * attacker's socket, and counts the bytes that cross each outside address in each direction.
 */
final class RebindingRelay implements AutoCloseable {

    private final DatagramSocket front;
    private final InetSocketAddress server;
    private volatile DatagramSocket outside;
    private volatile InetSocketAddress outsideAddress;
    private volatile InetSocketAddress client;
    private volatile DatagramSocket divertNextTo;
    private final AtomicLong rebinds = new AtomicLong();
    private volatile RuntimeException failure;
    private final Map<InetSocketAddress, AtomicLong> bytesToServer = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, AtomicLong> bytesFromServer = new ConcurrentHashMap<>();
    private volatile java.util.function.Function<byte[], byte[]> prefixFor;

    RebindingRelay(InetSocketAddress server, InetAddress outsideAddress) throws SocketException {
        this.server = server;
        this.front = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
        front.setReceiveBufferSize(4 << 20);
        this.outside = openOutside(outsideAddress);
        this.outsideAddress = (InetSocketAddress) outside.getLocalSocketAddress();
        Thread thread = new Thread(this::pumpToServer, "relay-to-server");
        thread.setDaemon(true);
        thread.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /** The address the server sees the client at now. */
    InetSocketAddress outsideAddress() {
        return outsideAddress;
    }

    /** The NAT gives the client a new binding on {@code address}; the old binding stops working at once. */
    void rebind(InetAddress address) throws SocketException {
        DatagramSocket old = outside;
        DatagramSocket fresh = openOutside(address);
        outsideAddress = (InetSocketAddress) fresh.getLocalSocketAddress();
        outside = fresh;
        old.close();
        rebinds.incrementAndGet();
    }

    long rebinds() {
        return rebinds.get();
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
    void prefixShortHeaderDatagrams(java.util.function.Function<byte[], byte[]> prefixFor) {
        this.prefixFor = prefixFor;
    }

    /** {@code packet} as it should travel on: with a prefix if {@link #prefixShortHeaderDatagrams} asks for one. */
    private DatagramPacket withPrefix(DatagramPacket packet) {
        java.util.function.Function<byte[], byte[]> prefixing = prefixFor;
        if (prefixing == null || packet.getLength() == 0 || (packet.getData()[packet.getOffset()] & 0x80) != 0) {
            return packet;
        }
        byte[] original = java.util.Arrays.copyOfRange(packet.getData(), packet.getOffset(),
                packet.getOffset() + packet.getLength());
        byte[] prefix = prefixing.apply(original);
        byte[] both = new byte[prefix.length + original.length];
        System.arraycopy(prefix, 0, both, 0, prefix.length);
        System.arraycopy(original, 0, both, prefix.length, original.length);
        return new DatagramPacket(both, both.length, packet.getSocketAddress());
    }

    long bytesToServerFrom(InetSocketAddress outside) {
        AtomicLong count = bytesToServer.get(outside);
        return count == null ? 0 : count.get();
    }

    long bytesFromServerTo(InetSocketAddress outside) {
        AtomicLong count = bytesFromServer.get(outside);
        return count == null ? 0 : count.get();
    }

    private DatagramSocket openOutside(InetAddress address) throws SocketException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, 0));
        socket.setReceiveBufferSize(4 << 20);
        Thread thread = new Thread(() -> pumpToClient(socket), "relay-to-client");
        thread.setDaemon(true);
        thread.start();
        return socket;
    }

    /** Counts what the server sends to a socket the test owns (an attacker's), by reading it until closed. */
    void countFromServer(DatagramSocket socket) {
        InetSocketAddress self = (InetSocketAddress) socket.getLocalSocketAddress();
        Thread thread = new Thread(() -> {
            DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
            try {
                while (true) {
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

    private void pumpToServer() {
        try {
            relayToServer();
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    /** A failure of the relay itself (a test bug), or null. */
    RuntimeException failure() {
        return failure;
    }

    private void relayToServer() {
        DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
        try {
            while (true) {
                packet.setLength(65_536);
                front.receive(packet);
                client = (InetSocketAddress) packet.getSocketAddress();
                packet.setSocketAddress(server);
                DatagramSocket via = divertNextTo;
                if (via != null) {
                    divertNextTo = null;
                } else {
                    via = outside;
                }
                InetSocketAddress viaAddress = (InetSocketAddress) via.getLocalSocketAddress();
                try {
                    DatagramPacket sent = withPrefix(packet);
                    via.send(sent);
                    if (viaAddress != null) {
                        count(bytesToServer, viaAddress, sent.getLength());
                    }
                } catch (IOException e) {
                    // the binding was just replaced: the datagram is lost, as in a real NAT rebinding
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void pumpToClient(DatagramSocket socket) {
        DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
        InetSocketAddress self = (InetSocketAddress) socket.getLocalSocketAddress();
        try {
            while (true) {
                packet.setLength(65_536);
                socket.receive(packet);
                count(bytesFromServer, self, packet.getLength());
                InetSocketAddress target = client;
                if (target != null) {
                    packet.setSocketAddress(target);
                    front.send(withPrefix(packet));
                }
            }
        } catch (IOException e) {
            // closed by a rebinding or by close()
        }
    }

    private static void count(Map<InetSocketAddress, AtomicLong> counts, InetSocketAddress key, int bytes) {
        counts.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(bytes);
    }

    @Override
    public void close() {
        front.close();
        outside.close();
    }
}
