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
 * When client migration is accepted, each connection has a {@link ServerMigrationDriver}, and this layer:
 * <ul>
 * <li>maps each short-header datagram's destination connection ID to its connection and presents the datagram as
 *     coming from the client's first address, tagged with its true source ({@link ServerMigrationDriver#tagFor});</li>
 * <li>hands each datagram Kwik sends to a migrated client's first address to that connection's driver, which
 *     sends it on the right path within the path's anti-amplification budget.</li>
 * </ul>
 * Datagrams whose connection ID is unknown are passed to Kwik unchanged: Kwik drops them or answers with a
 * stateless reset, without touching any connection.
 *
 * <p>Kwik's server receive thread is the only caller of {@link #receive}; Kwik's sender threads call
 * {@link #send}.
 */
final class ServerPathSocket extends DatagramSocket {

    private static final int MAX_REMEMBERED_IDS = 65_536;

    private final int connectionIdLength;
    private final boolean followMigration;
    private final Function<byte[], ServerMigrationDriver> driverOfConnectionId;
    private final Map<ConnectionId, ServerMigrationDriver> driverById = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ConnectionId, ServerMigrationDriver> eldest) {
                    return size() > MAX_REMEMBERED_IDS;
                }
            });
    private final Map<InetSocketAddress, ServerMigrationDriver> driverByFirstAddress = new ConcurrentHashMap<>();
    private volatile Predicate<InetSocketAddress> dropFrom = address -> false;
    /**
     * Traced connections without a migration driver (a server that does not follow migration), by client address;
     * the sender thread of such a connection names it in {@link #TRACED_SENDER} so the logger hook can trace
     * what it sent. Connections with a driver are traced through the driver.
     */
    private final Map<InetSocketAddress, KwikConnection> tracedWithoutDriver = new ConcurrentHashMap<>();
    private static final ThreadLocal<KwikConnection> TRACED_SENDER = new ThreadLocal<>();
    /**
     * Looking up an ID not seen before scans the live connections, so datagrams with random IDs (garbage, or an
     * attack) could make the receive thread spend its time scanning. At most this many lookups per second; a
     * datagram over the limit is handed to Kwik unchanged, which drops it unless it comes from the client's first
     * address (a legitimate one is then lost once and resent).
     */
    private static final int MAX_LOOKUPS_PER_SECOND = 2_000;
    private final LookupBudget lookups = new LookupBudget(MAX_LOOKUPS_PER_SECOND);

    /**
     * @param driverOfConnectionId finds the migration driver of the connection a server connection ID belongs to,
     *                             or null
     */
    ServerPathSocket(SocketAddress bindAddress, int connectionIdLength, boolean followMigration,
                     Function<byte[], ServerMigrationDriver> driverOfConnectionId) throws SocketException {
        super(bindAddress);
        this.connectionIdLength = connectionIdLength;
        this.followMigration = followMigration;
        this.driverOfConnectionId = driverOfConnectionId;
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

    void register(ServerMigrationDriver driver) {
        driverByFirstAddress.put(driver.firstAddress(), driver);
    }

    /** Starts or stops tracing the sends of a connection without a migration driver. */
    void traceSendsWithoutDriver(KwikConnection connection, boolean traced) {
        if (traced) {
            tracedWithoutDriver.put(connection.peerAddress(), connection);
        } else {
            tracedWithoutDriver.remove(connection.peerAddress(), connection);
        }
    }

    /**
     * Sender thread, from the logger hook after Kwik sent {@code packet}: traces it if this thread sends for a
     * traced connection without a driver. Returns at once otherwise.
     */
    static void traceSent(tech.kwik.core.packet.QuicPacket packet, java.time.Instant time) {
        KwikConnection connection = TRACED_SENDER.get();
        PacketObserver observer = connection == null ? null : connection.packetObserver();
        if (observer != null) {
            observer.packet(PacketDescriber.describe(packet, true, time, connection.localAddress(),
                    connection.peerAddress()));
        }
    }

    /** Forgets a connection's driver when the connection ends. */
    void forget(ServerMigrationDriver driver) {
        driverByFirstAddress.remove(driver.firstAddress(), driver);
        driverById.values().removeIf(d -> d == driver);
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
        ServerMigrationDriver driver = driverById.get(id);
        if (driver == null) {
            if (!lookups.tryAcquire(System.nanoTime())) {
                return; // too many unknown IDs right now (garbage?): Kwik decides, as for an unknown ID
            }
            driver = driverOfConnectionId.apply(id.bytes());
            if (driver == null) {
                return; // unknown, or still in its handshake: Kwik decides
            }
            driverById.put(id, driver);
        }
        packet.setAddress(driver.tagFor(source));
        packet.setPort(driver.firstAddress().getPort());
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        if (followMigration && !driverByFirstAddress.isEmpty()) {
            ServerMigrationDriver driver = driverByFirstAddress.get((InetSocketAddress) packet.getSocketAddress());
            if (driver != null) {
                driver.send(packet);
                return;
            }
        }
        if (!tracedWithoutDriver.isEmpty()) {
            KwikConnection traced = tracedWithoutDriver.get((InetSocketAddress) packet.getSocketAddress());
            if (traced != null && TRACED_SENDER.get() != traced) {
                TRACED_SENDER.set(traced);
            }
        }
        super.send(packet);
    }

    /** A token bucket refilled continuously; used by the receive thread only. */
    static final class LookupBudget {
        private final int perSecond;
        private double tokens;
        private long lastNanos;

        LookupBudget(int perSecond) {
            this.perSecond = perSecond;
            this.tokens = perSecond;
            this.lastNanos = System.nanoTime();
        }

        boolean tryAcquire(long nowNanos) {
            tokens = Math.min(perSecond, tokens + (nowNanos - lastNanos) * perSecond / 1e9);
            lastNanos = nowNanos;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

    /** Sends without routing: for the drivers. */
    void sendOut(DatagramPacket packet) throws IOException {
        super.send(packet);
    }
}
