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
 * every datagram from an address other than the client's first one and sends to that first address for ever (W17,
 * docs/kwik-workarounds.md#w17).
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
 * <p>A server with preferred addresses (RFC 9000 9.6) also owns one socket per preferred address. Kwik reads one
 * socket, so then each socket gets a reader thread of its own ({@link ServerArrivals}), and {@link #receive} hands
 * Kwik what they received, in arrival order, through a bounded queue of reusable buffers; each short-header
 * datagram is tagged with the local address it arrived on as well as its source. Long-header datagrams to a
 * preferred address are dropped: handshakes stay on the main address. Without preferred addresses Kwik's thread
 * reads the main socket directly.
 *
 * <p>Kwik's server receive thread is the only caller of {@link #receive}; Kwik's sender threads call
 * {@link #send}.
 */
final class ServerPathSocket extends DatagramSocket {

    private static final System.Logger LOG = System.getLogger(ServerPathSocket.class.getName());
    private static final int MAX_REMEMBERED_IDS = 65_536;

    private final int connectionIdLength;
    private final boolean followMigration;
    private final InetSocketAddress primaryLocal;
    /** Sockets bound to the preferred addresses; empty for most servers. */
    private final java.util.List<DatagramSocket> preferredSockets;
    private final java.util.List<InetSocketAddress> preferredLocals;
    /** Merge mode only (preferred addresses): the reader threads and their queue; null without them. */
    private final ServerArrivals arrivals;
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
    /** The rest of a datagram after its Handshake packet, for the next {@link #receive}; see there. */
    private final CoalescedRest<InetSocketAddress> coalescedRest = new CoalescedRest<>();
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
        this(bindAddress, java.util.List.of(), connectionIdLength, followMigration, driverOfConnectionId);
    }

    /**
     * @param preferredBindAddresses addresses to receive on as well, the server's preferred addresses (may be empty)
     * @throws SocketException if an address cannot be bound (nothing stays bound then)
     */
    ServerPathSocket(SocketAddress bindAddress, java.util.List<InetSocketAddress> preferredBindAddresses,
                     int connectionIdLength, boolean followMigration,
                     Function<byte[], ServerMigrationDriver> driverOfConnectionId) throws SocketException {
        super(bindAddress);
        this.connectionIdLength = connectionIdLength;
        this.followMigration = followMigration;
        this.driverOfConnectionId = driverOfConnectionId;
        this.primaryLocal = (InetSocketAddress) getLocalSocketAddress();
        enlargeBuffers(this);
        java.util.List<DatagramSocket> sockets = new java.util.ArrayList<>();
        try {
            for (InetSocketAddress address : preferredBindAddresses) {
                DatagramSocket preferred = bindPreferred(address);
                sockets.add(preferred);
                enlargeBuffers(preferred);
            }
        } catch (SocketException e) {
            sockets.forEach(DatagramSocket::close);
            super.close();
            throw e;
        }
        this.preferredSockets = java.util.List.copyOf(sockets);
        this.preferredLocals = sockets.stream().map(s -> (InetSocketAddress) s.getLocalSocketAddress()).toList();
        if (sockets.isEmpty()) {
            arrivals = null;
        } else {
            arrivals = new ServerArrivals(sockets.size() + 1);
            arrivals.startReader(this::receiveDirect, primaryLocal);
            for (int i = 0; i < sockets.size(); i++) {
                arrivals.startReader(sockets.get(i)::receive, preferredLocals.get(i));
            }
        }
    }

    /** Attempts at a port a Kwik client can decode, when the preferred address asks for any port. */
    private static final int PORT_ATTEMPTS = 64;

    /**
     * Binds a preferred address. Kwik clients up to 0.10.9 decode the preferred_address port with sign extension
     * (W27, docs/kwik-workarounds.md#w27), so they cannot follow a port whose low byte is 0x80 or more; for port 0 an ephemeral port
     * without that bit is picked (half of them qualify). An explicit port is bound as given.
     */
    private static DatagramSocket bindPreferred(InetSocketAddress address) throws SocketException {
        if (address.getPort() != 0) {
            if ((address.getPort() & 0x80) != 0) {
                LOG.log(System.Logger.Level.WARNING, "preferred address " + address + ": clients on Kwik 0.10.9 or"
                        + " older cannot decode a port whose low byte is 0x80 or more and will not move there");
            }
            return new DatagramSocket(address);
        }
        java.util.List<DatagramSocket> unsuitable = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < PORT_ATTEMPTS; i++) {
                DatagramSocket socket = new DatagramSocket(address);
                if ((socket.getLocalPort() & 0x80) == 0) {
                    return socket;
                }
                unsuitable.add(socket); // held open until the end, so the kernel does not offer it again
            }
            throw new SocketException("no free port on " + address.getAddress() + " whose low byte is below 0x80 in "
                    + PORT_ATTEMPTS + " attempts");
        } finally {
            unsuitable.forEach(DatagramSocket::close);
        }
    }

    private static void enlargeBuffers(DatagramSocket socket) {
        try {
            socket.setReceiveBufferSize(4 << 20);
            socket.setSendBufferSize(4 << 20);
        } catch (SocketException e) {
            // the kernel's limits apply; defaults still work
        }
    }

    /** The bound address of the main socket; the drivers use this very object as the local side of its paths. */
    InetSocketAddress primaryLocal() {
        return primaryLocal;
    }

    /** The bound addresses of the preferred-address sockets, in the order given. */
    java.util.List<InetSocketAddress> preferredLocals() {
        return preferredLocals;
    }

    /** Datagrams the merge queue had no room for (Kwik fell behind), for diagnostics. */
    long mergeDropped() {
        return arrivals == null ? 0 : arrivals.dropped();
    }

    /** Merge mode: the main socket's own receive, for its reader thread. */
    private void receiveDirect(DatagramPacket packet) throws IOException {
        super.receive(packet);
    }

    @Override
    public void close() {
        if (arrivals != null) {
            arrivals.closing();
        }
        preferredSockets.forEach(DatagramSocket::close);
        super.close();
        if (arrivals != null) {
            arrivals.closed(); // wakes a receive() waiting for datagrams
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

    /**
     * Hands Kwik the next datagram; a datagram that starts with a Handshake packet comes as two, that packet and the
     * rest ({@link CoalescedRest}, W7: Kwik would drop the rest with the packet once its Handshake keys are
     * discarded).
     */
    @Override
    public void receive(DatagramPacket packet) throws IOException {
        int capacity = packet.getData().length - packet.getOffset();
        while (true) {
            InetSocketAddress local = coalescedRest.takeInto(packet);
            if (local == null) {
                if (arrivals == null) {
                    local = primaryLocal;
                    super.receive(packet);
                } else {
                    local = arrivals.take(packet, capacity);
                }
            }
            InetSocketAddress source = (InetSocketAddress) packet.getSocketAddress();
            if (dropFrom.test(source)) {
                packet.setLength(capacity);
                continue;
            }
            coalescedRest.splitOff(packet, local);
            if (followMigration && !present(packet, source, local)) {
                packet.setLength(capacity);
                continue;
            }
            return;
        }
    }

    /** Rewrites the datagram's source for Kwik; false to drop it (a handshake packet sent to a preferred address). */
    private boolean present(DatagramPacket packet, InetSocketAddress source, InetSocketAddress local) {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        if (packet.getLength() < 1 + connectionIdLength || (data[offset] & 0x80) != 0) {
            // Long header: handshake traffic stays on the main address. Kwik would answer one that came to a
            // preferred address from the main address, which the client would not recognise.
            return local == primaryLocal;
        }
        ConnectionId id = ConnectionId.of(data, offset + 1, connectionIdLength);
        ServerMigrationDriver driver = driverById.get(id);
        if (driver == null) {
            if (!lookups.tryAcquire(System.nanoTime())) {
                // too many unknown IDs right now (garbage?): Kwik decides, as for an unknown ID
                return local == primaryLocal;
            }
            driver = driverOfConnectionId.apply(id.bytes());
            if (driver == null) {
                return local == primaryLocal; // unknown, or still in its handshake: Kwik decides
            }
            driverById.put(id, driver);
        }
        packet.setAddress(driver.tagFor(local, source));
        packet.setPort(driver.firstAddress().getPort());
        return true;
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
        sendOrDrop(null, packet);
    }

    /**
     * Sends on {@code socket} (null: this one). A send error concerns the one client address it was for (its route
     * went, a firewall refused it: EHOSTUNREACH, ENETUNREACH, EPERM), never the connection: Kwik's sender would close
     * the connection on any exception, so the datagram counts as sent and lost, and loss recovery goes on (W18,
     * docs/kwik-workarounds.md#w18).
     */
    private void sendOrDrop(DatagramSocket socket, DatagramPacket packet) throws IOException {
        try {
            if (socket == null) {
                super.send(packet);
            } else {
                socket.send(packet);
            }
        } catch (IOException e) {
            if (isClosed()) {
                throw e;
            }
            sendFailures.record(packet.getSocketAddress(), e);
        }
    }

    private final SendFailures sendFailures = new SendFailures();

    /** Sends without routing, from {@code local} (the main address or a preferred one): for the drivers. */
    void sendOut(DatagramPacket packet, InetSocketAddress local) throws IOException {
        if (local == primaryLocal || preferredSockets.isEmpty()) {
            sendOrDrop(null, packet);
            return;
        }
        for (int i = 0; i < preferredSockets.size(); i++) {
            if (preferredLocals.get(i).equals(local)) {
                sendOrDrop(preferredSockets.get(i), packet);
                return;
            }
        }
        sendOrDrop(null, packet);
    }
}
