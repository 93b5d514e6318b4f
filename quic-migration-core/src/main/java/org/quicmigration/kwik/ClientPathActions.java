package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationAction;

/**
 * Internal: performs a client connection's path actions from {@link ClientMigrator} on Kwik and on the path socket
 * (use a path, send a PATH_CHALLENGE, retire a peer ID, reset or seed recovery, announce a move, close a path left
 * behind), and holds what they change: the peer ID and server address in use, and the path probed before use.
 * Runs on the binding thread ({@link BindingThreads}); the getters may be called on any thread.
 */
final class ClientPathActions {

    /** Bounds on how long a path left behind keeps receiving (see the ClosePath action). */
    private static final long MIN_LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_LINGER_NANOS = TimeUnit.SECONDS.toNanos(3);

    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final ClientMigrator migrator;
    private final List<MigrationObserver> observers;
    /** The driver's clock origin (System.nanoTime()), to which the core's times are relative. */
    private final long epochNanos;
    private volatile ConnectionId activePeerId;
    private volatile InetSocketAddress activeRemote;
    private volatile DeclaredLosses declaredLosses;
    /** The path being probed before use (validate first), or null. */
    private volatile Probing probing;

    /** A path probed before use: its local address and its destination connection ID. */
    private record Probing(InetSocketAddress local, byte[] peerId) {
    }

    ClientPathActions(QuicClientConnectionImpl connection, ClientPathSocket socket, ClientMigrator migrator,
                      List<MigrationObserver> observers, long epochNanos, ConnectionId initialPeerId,
                      InetSocketAddress server) {
        this.connection = connection;
        this.socket = socket;
        this.migrator = migrator;
        this.observers = observers;
        this.epochNanos = epochNanos;
        this.activePeerId = initialPeerId;
        this.activeRemote = server;
    }

    /** The destination ID application packets use now; any thread. */
    ConnectionId activePeerId() {
        return activePeerId;
    }

    /** The server address packets go to now; any thread. */
    InetSocketAddress activeRemote() {
        return activeRemote;
    }

    DeclaredLosses declaredLosses() {
        return declaredLosses;
    }

    /** Where the packets declared lost at a move are recorded (see {@link DeclaredLosses}). */
    void declaredLosses(DeclaredLosses losses) {
        this.declaredLosses = losses;
    }

    /**
     * The destination ID of the path on {@code local} if it is being probed before use (validate first), else null;
     * any thread. A PATH_CHALLENGE the server sends there is answered there, with this ID (RFC 9000 8.2.2, 9.5).
     */
    byte[] probingPathId(InetSocketAddress local) {
        Probing current = probing;
        return current != null && current.local().equals(local) && !local.equals(socket.activeLocal())
                ? current.peerId() : null;
    }

    /**
     * Records a new peer ID that Kwik itself already moved to (it retires what retire_prior_to covers and moves its
     * own current ID): routes it to its path, and tells Kwik nothing.
     */
    void mirror(MigrationAction.UsePath use) {
        socket.route(use.peerId().id(), use.tuple().local());
        activePeerId = use.peerId().id();
    }

    void usePath(MigrationAction.UsePath use) {
        if (use.beforeValidation()) {
            // W35: whatever packet Kwik builds first for the new path (one for the reader's credit, say, in the
            // moment before the move's own) carries every ACK range too.
            KwikAcks.markEveryRangeUnacknowledged(connection);
        }
        ConnectionId previous = activePeerId;
        socket.route(use.peerId().id(), use.tuple().local());
        socket.activate(use.tuple().local());
        KwikConnectionIds.usePeerConnectionId(connection, use.peerId().id().bytes()); // W13
        activePeerId = use.peerId().id();
        activeRemote = use.tuple().remote();
        KwikRecovery.flush(connection);
        observers.forEach(o -> o.peerIdChanged(previous, use.peerId().id(), use.tuple()));
    }

    void sendChallenge(MigrationAction.SendPathChallenge challenge) {
        // The challenge uses Kwik's current destination ID, which the core made the new path's ID, so the path
        // socket routes it to the new path. It goes as a probe: congestion control would hold it back while the
        // bytes lost on a dead old path still count as in flight (W19, docs/kwik-workarounds.md#w19).
        byte[] data = challenge.data();
        RoutedProbeFrame frame;
        if (challenge.peerId().equals(activePeerId)) {
            frame = RoutedProbeFrame.sized(RoutedProbeFrame.PATH_CHALLENGE, data,
                    connection.getDestinationConnectionId().length, Long.MAX_VALUE, null);
        } else {
            // Validate first (RFC 9000 9.1): the path is probed while the active one carries the data. Kwik
            // builds the challenge with the active path's ID; the socket seals it again with the new path's
            // (W20, docs/kwik-workarounds.md#w20).
            socket.route(challenge.peerId(), challenge.tuple().local());
            probing = new Probing(challenge.tuple().local(), challenge.peerId().bytes());
            frame = RoutedProbeFrame.resealed(data, challenge.peerId().bytes());
        }
        KwikRecovery.sendProbe(connection, frame
                .onDeparture(left -> THREAD.execute(() -> migrator.challengeLeft(left - epochNanos, data))));
        observers.forEach(o -> o.validationStarted(challenge.tuple(), challenge.data()));
    }

    void retirePeerId(MigrationAction.RetirePeerId retire) {
        if (retire.firstOnNewPath()) {
            // A move to a path validated before retires the old ID at once: that packet is the first on the new
            // path, so it carries the ACK (W35).
            KwikAcks.acknowledgeAllInNextPacket(connection);
        }
        connection.retireDestinationConnectionId((int) retire.sequence());
        // Kwik queues RETIRE_CONNECTION_ID without waking its sender; on an idle connection it then waits for
        // the next packet (seconds). The server answers it with a fresh ID, which the next migration needs
        // (W14, docs/kwik-workarounds.md#w14).
        KwikRecovery.flush(connection);
    }

    void resetRecovery() {
        KwikCongestion.resetRecovery(connection, declaredLosses);
    }

    void seedRecovery(long roundTripNanos) {
        KwikCongestion.seedRttFromValidation(connection, roundTripNanos); // W22
        KwikCongestion.startRecoveryPeriod(connection);
    }

    /**
     * The move is in place (the new path's ID and socket): a PING, queued now, leaves on the new path, so the server
     * learns of the move at once. Without it, when the old network is dead nothing else would go out on the new path
     * until the silence PING (W10), 150 ms or more later.
     */
    void announceMove() {
        // W35: the last ACKs may have gone to a dead network; the first non-probing packet here repeats them all
        // (after the challenge: a small first datagram would leave the server a small budget, RFC 9000 8).
        KwikAcks.acknowledgeAllInNextPacket(connection);
        connection.send(new tech.kwik.core.frame.PingFrame(), lost -> { }, true);
    }

    void closePathSoon(MigrationAction.ClosePath close) {
        Probing probed = probing;
        if (probed != null && probed.local().equals(close.tuple().local())) {
            probing = null;
        }
        // The path is no longer used for sending, but the server may have sent there until it saw us move, half
        // a round trip or more after the switch: closing the socket at once loses that data (about one round
        // trip of stall after a validate-first move). So it keeps receiving for three PTOs.
        long pto = Duration.ofMillis(KwikRecovery.ptoMillis(connection)).toNanos();
        long linger = Math.min(MAX_LINGER_NANOS, Math.max(MIN_LINGER_NANOS, 3 * pto));
        socket.closePathLater(close.tuple().local(), linger, THREAD);
    }
}
