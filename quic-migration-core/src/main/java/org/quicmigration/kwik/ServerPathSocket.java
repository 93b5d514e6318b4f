package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;

import org.quicmigration.core.ConnectionId;

/**
 * Internal: the server's socket layer, presented to Kwik as its one {@link DatagramSocket}. Kwik's server drops
 * every datagram from an address other than the client's first one and sends to that first address for ever.
 * When client migration is accepted, this layer:
 * <ul>
 * <li>maps each short-header datagram's destination connection ID to its connection and presents the datagram
 *     as coming from the client's first address, so Kwik accepts it;</li>
 * <li>remembers the address the client last sent from and sends Kwik's datagrams for that client there.</li>
 * </ul>
 * <b>Limits, to be lifted by server-side path validation:</b> the latest address wins without validation and
 * without an anti-amplification budget for the new address; packet numbers are encrypted here, so "latest"
 * means the latest datagram to arrive, not the highest packet number.
 *
 * <p>Kwik's server receive thread is the only caller of {@link #receive}; Kwik's sender threads call
 * {@link #send}.
 */
final class ServerPathSocket extends DatagramSocket {

    private static final int MAX_REMEMBERED_IDS = 65_536;

    private final int connectionIdLength;
    private final boolean followMigration;
    private final Function<byte[], InetSocketAddress> firstAddressOfConnection;
    private final Map<ConnectionId, InetSocketAddress> firstAddressById = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ConnectionId, InetSocketAddress> eldest) {
                    return size() > MAX_REMEMBERED_IDS;
                }
            });
    private final Map<InetSocketAddress, InetSocketAddress> currentAddress = new ConcurrentHashMap<>();
    private volatile Predicate<InetSocketAddress> dropFrom = address -> false;

    /**
     * @param firstAddressOfConnection finds the first client address of the connection a server connection ID
     *                                 belongs to, or null
     */
    ServerPathSocket(SocketAddress bindAddress, int connectionIdLength, boolean followMigration,
                     Function<byte[], InetSocketAddress> firstAddressOfConnection) throws SocketException {
        super(bindAddress);
        this.connectionIdLength = connectionIdLength;
        this.followMigration = followMigration;
        this.firstAddressOfConnection = firstAddressOfConnection;
        try {
            setReceiveBufferSize(4 << 20);
            setSendBufferSize(4 << 20);
        } catch (SocketException e) {
            // the kernel's limits apply; defaults still work
        }
    }

    /** Test hook: silently drops datagrams from addresses matching {@code filter} (a black-holed path). */
    void dropDatagramsFrom(Predicate<InetSocketAddress> filter) {
        this.dropFrom = filter;
    }

    @Override
    public void receive(DatagramPacket packet) throws IOException {
        while (true) {
            super.receive(packet);
            InetSocketAddress source = (InetSocketAddress) packet.getSocketAddress();
            if (dropFrom.test(source)) {
                packet.setLength(packet.getData().length - packet.getOffset());
                continue;
            }
            if (followMigration) {
                present(packet, source);
            }
            return;
        }
    }

    private void present(DatagramPacket packet, InetSocketAddress source) {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        if (packet.getLength() < 1 + connectionIdLength || (data[offset] & 0x80) != 0) {
            return; // long header: handshake traffic stays on the first address
        }
        ConnectionId id = ConnectionId.of(data, offset + 1, connectionIdLength);
        InetSocketAddress first = firstAddressById.get(id);
        if (first == null) {
            first = firstAddressOfConnection.apply(id.bytes());
            if (first == null) {
                return; // unknown: Kwik decides (stateless reset or drop)
            }
            firstAddressById.put(id, first);
        }
        if (!first.equals(source)) {
            packet.setSocketAddress(first);
        }
        // RFC 9000 9.3 asks for the highest packet number; this layer cannot read it (it is encrypted), so the
        // latest datagram decides. Server-side validation will make this safe against spoofed sources.
        if (!source.equals(currentAddress.getOrDefault(first, first))) {
            if (source.equals(first)) {
                currentAddress.remove(first);
            } else {
                currentAddress.put(first, source);
            }
        }
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        if (followMigration && !currentAddress.isEmpty()) {
            InetSocketAddress moved = currentAddress.get((InetSocketAddress) packet.getSocketAddress());
            if (moved != null) {
                packet.setSocketAddress(moved);
            }
        }
        super.send(packet);
    }

    /** Forgets a connection's address change when it ends. */
    void forget(InetSocketAddress firstAddress) {
        currentAddress.remove(firstAddress);
    }
}
