package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.server.impl.ServerConnectionImpl;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.ServerRouting;

/**
 * Internal: the sending half of a {@link ServerMigrationDriver}. Kwik's sender thread hands it every datagram of the
 * connection, addressed to the client's first address; it sends each where the core's last published {@link
 * ServerRouting} says, without a lock, while the active path is validated and nothing waits. A path frame, or a
 * datagram for a path not validated yet, asks the core under the driver's lock: what does not fit the path's budget
 * yet, or would overtake its challenge, is held back and released in order as the budget grows.
 */
final class ServerPathSender {

    private static final System.Logger LOG = System.getLogger(ServerPathSender.class.getName());

    /**
     * Datagrams held back for an unvalidated path; beyond this the oldest is dropped (Kwik will resend it). What is
     * held is data Kwik counts in flight, so its congestion window bounds it before this does; 1,024 full datagrams
     * are about 1.3 MB. Measured with 128: a download NAT-rebound every 300 ms at 25 ms each way overflowed it (29
     * dropped in one rebinding), Kwik took the drops for congestion and halved its window twice, and the window
     * stayed in congestion avoidance: 1.0 MB/s against 3.5 MB/s with 1,024 (8 MiB, no rebinding: 4.8 MB/s).
     */
    private static final int MAX_HELD_DATAGRAMS = 1024;

    /** What the sender reads for every datagram: the core's routing, and whether it may send without asking. */
    private record Route(ServerRouting routing, boolean direct) {
    }

    // The logger hook gets only the packet: the thread-local names the sender whose thread this is.
    private static final ThreadLocal<ServerPathSender> SENDING = new ThreadLocal<>();

    private final ServerMigrationDriver driver;
    private final ServerConnectionImpl connection;
    private final ServerPathSocket socket;
    private final Tuple firstPath;
    private final ProbeResealer resealer;
    private volatile Route route;

    // Guarded by the driver's lock.
    private final ArrayDeque<byte[]> held = new ArrayDeque<>();
    private long heldDropped;
    private long probesDropped;

    // Sender thread only.
    private volatile PacketObserver packetObserver;
    /** Where the last datagram went, for the trace of its packet. */
    private Tuple lastSentOn;
    /** The last datagram sent was a path frame to take out of Kwik's recovery. */
    private boolean detachSent;
    /** The last packet sealed again instead of Kwik's, for traces. */
    private QuicPacket lastResealed;
    private volatile Map<InetSocketAddress, String> firstSends;

    ServerPathSender(ServerMigrationDriver driver, ServerConnectionImpl connection, ServerPathSocket socket,
                     Tuple firstPath, ServerRouting initial) {
        this.driver = driver;
        this.connection = connection;
        this.socket = socket;
        this.firstPath = firstPath;
        this.resealer = new ProbeResealer(connection);
        this.route = new Route(initial, initial.activeValidated());
    }

    void packetObserver(PacketObserver observer) {
        this.packetObserver = observer;
    }

    ServerRouting routing() {
        return route.routing();
    }

    /** Called with the driver's lock held, after every call into the core: the routing it decided, and the hold. */
    void publish() {
        ServerRouting routing = driver.routingNow();
        boolean direct = routing.activeValidated() && held.isEmpty();
        Route current = route;
        if (current.routing() != routing || current.direct() != direct) {
            route = new Route(routing, direct);
        }
    }

    void stop() {
        synchronized (driver) {
            held.clear();
        }
    }

    /** Sends a datagram Kwik addressed to the first client address: on the right path, within its budget. */
    void send(DatagramPacket packet) throws IOException {
        RoutedProbeFrame probe = RoutedProbeFrame.takeRoute();
        Tuple routed = probe == null ? null : probe.path();
        if (probe != null) {
            detachSent = routed != null && probe.leavesRecovery();
            if (detachSent && SENDING.get() != this) {
                SENDING.set(this); // for the logger hook: see takeProbeToDetach
            }
            if (probe.resealWith() != null) {
                reseal(packet, probe);
            }
        }
        Route now = route;
        ServerRouting routing = now.routing();
        Tuple leftPath = routed != null ? null
                : routing.leftPathFor(packet.getData(), packet.getOffset(), packet.getLength());
        if (leftPath != null) {
            // Built before the switch to a fresh client ID: it may go only where that ID was used (RFC 9000 9.5). That
            // path was validated; if it is gone, the packet is lost and sent again with the new ID.
            sendOn(packet, leftPath);
            return;
        }
        if (packetObserver != null && SENDING.get() != this) {
            SENDING.set(this);
        }
        if (routed == null && now.direct()) {
            sendOn(packet, routing.active());
            return;
        }
        RoutedProbeFrame retry = null;
        synchronized (driver) {
            if (routed != null) {
                if (driver.mayProbe(routed, packet.getLength())) {
                    recordFirstSend(routed.remote(), probe);
                    sendOn(packet, routed);
                } else {
                    // Kwik put more in the probe's packet (a large ACK frame) than the padding left room for. Try
                    // again at once without padding (RFC 9000 8.2.1 allows that when the budget is short) rather
                    // than wait for the validation's retransmission timer: everything for this path waits on it
                    // (W19).
                    probesDropped++;
                    retry = probe.unpadded();
                    lastSentOn = null; // it never left: the trace shows the retry instead
                }
            } else {
                // The move may have happened since the routing was read: the datagram goes to the path active now,
                // or waits for it.
                Tuple active = driver.routingNow().active();
                lastSentOn = active;
                if (held.isEmpty() && driver.mayPass(packet.getLength())) {
                    sendOn(packet, active);
                } else {
                    hold(packet);
                    publish();
                }
            }
        }
        if (retry != null) {
            driver.resend(retry);
        }
        if (routed != null) {
            releaseHeld();
        }
    }

    private void reseal(DatagramPacket packet, RoutedProbeFrame probe) {
        ProbeResealer.Resealed resealed = resealer.reseal(packet.getData(), packet.getOffset(), packet.getLength(),
                connection.getDestinationConnectionId().length, probe,
                Math.min(RoutedProbeFrame.MIN_PROBE_DATAGRAM, packet.getLength()));
        if (resealed != null) {
            packet.setData(resealed.datagram());
            lastResealed = resealed.packet();
        }
    }

    private void sendOn(DatagramPacket packet, Tuple path) throws IOException {
        if (packetObserver != null) {
            lastSentOn = path;
        }
        if (path != firstPath) {
            packet.setSocketAddress(path.remote());
        }
        if (firstSends != null) {
            recordFirstSend(path.remote(), null);
        }
        socket.sendOut(packet, path.local());
    }

    private void hold(DatagramPacket packet) {
        if (held.size() >= MAX_HELD_DATAGRAMS) {
            held.removeFirst();
            heldDropped++;
        }
        held.addLast(Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength()));
    }

    /** Sends held datagrams to the active path as far as the core allows now, in order. */
    void releaseHeld() {
        synchronized (driver) {
            ServerRouting routing = driver.routingNow(); // releasing changes budgets, not the routing
            while (!held.isEmpty() && driver.mayPass(held.peekFirst().length)) {
                byte[] datagram = held.removeFirst();
                Tuple left = routing.leftPathFor(datagram, 0, datagram.length);
                Tuple to = left != null ? left : routing.active();
                try {
                    recordFirstSend(to.remote(), null);
                    socket.sendOut(new DatagramPacket(datagram, datagram.length, to.remote()), to.local());
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "cannot send to " + to + ": " + e);
                }
            }
            publish();
        }
    }

    String describeHeld() {
        return "held " + held.size() + ", held dropped " + heldDropped + ", probes dropped " + probesDropped;
    }

    // ---- traces --------------------------------------------------------------------------------------------------

    /** Packet thread: reports a received packet with the path it came on, if traced. */
    void traceReceived(QuicPacket packet, Instant received, Tuple path) {
        PacketObserver observer = packetObserver;
        if (observer != null && received != null) {
            observer.packet(PacketDescriber.describe(packet, false, received, path.local(), path.remote()));
        }
    }

    /**
     * Sender thread, from the logger hook after Kwik sent {@code packet}: reports it with the address its datagram
     * went to (or will go to, if held). Does nothing on a thread that is not a traced connection's sender.
     */
    static void traceSent(QuicPacket packet, Instant time) {
        ServerPathSender sender = SENDING.get();
        PacketObserver observer = sender == null ? null : sender.packetObserver;
        Tuple path = sender == null ? null : sender.lastSentOn;
        if (observer != null && path != null) {
            QuicPacket resealed = sender.lastResealed;
            if (resealed != null && Objects.equals(resealed.getPacketNumber(), packet.getPacketNumber())) {
                sender.lastResealed = null;
                packet = resealed; // the path frame left sealed again for its path (ProbeResealer)
            }
            observer.packet(PacketDescriber.describe(packet, true, time, path.local(), path.remote()));
        }
    }

    /**
     * For the logger hook, which gets only the packet, right after a path frame left on this sender thread: the Kwik
     * connection, if the core said that frame leaves Kwik's loss recovery ({@link KwikRecovery#detachProbeFromRecovery},
     * W21: docs/kwik-workarounds.md#w21); else null. Detaching the frames on a path the client probes too made a
     * validate-first handover slower (46-57 ms against 38-43 ms, A/B runs of 15 at 25 ms each way), for a reason not
     * found; so the core keeps those in Kwik's recovery.
     */
    static ServerConnectionImpl takeProbeToDetach() {
        ServerPathSender sender = SENDING.get();
        if (sender == null || !sender.detachSent) {
            return null;
        }
        sender.detachSent = false;
        return sender.connection;
    }

    /**
     * Test hook: from now on, remembers for each client address what the first datagram sent there was, to check
     * the QUIC interop runner's rule that the first packet on a new path carries PATH_CHALLENGE. Bounded.
     */
    void recordFirstSends() {
        firstSends = new ConcurrentHashMap<>();
    }

    /** Per client address: "PATH_CHALLENGE", "PATH_RESPONSE" or "other", for the first datagram sent there. */
    Map<InetSocketAddress, String> firstSends() {
        Map<InetSocketAddress, String> record = firstSends;
        return record == null ? Map.of() : Map.copyOf(record);
    }

    private void recordFirstSend(InetSocketAddress to, RoutedProbeFrame probe) {
        Map<InetSocketAddress, String> record = firstSends;
        if (record != null && record.size() < 10_000) {
            record.putIfAbsent(to, probe == null ? "other" : probe.isChallenge() ? "PATH_CHALLENGE" : "PATH_RESPONSE");
        }
    }
}
