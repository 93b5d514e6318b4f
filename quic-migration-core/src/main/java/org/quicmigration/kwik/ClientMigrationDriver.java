package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

import tech.kwik.core.cid.ConnectionIdInfo;
import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationAction;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;
import org.quicmigration.core.migration.MigrationRefusedException;
import org.quicmigration.core.policy.PolicyConfig;

/**
 * Internal: runs the sans-IO {@link ClientMigrator} against a live Kwik client connection. Every core call happens
 * on the binding's thread ({@link BindingThreads}); frames observed on Kwik's receiver thread are handed to it.
 * The driver performs the core's actions: routes destination IDs to path sockets, switches Kwik's destination ID,
 * sends PATH_CHALLENGE (Kwik pads such datagrams to 1200 bytes), retires IDs and resets recovery
 * ({@link ClientPathActions}); migrations from request to outcome are {@link ClientMigrationRequests}, the standby
 * path {@link ClientStandby}, and what the network-change policy asks {@link ClientPolicyHost}.
 */
public final class ClientMigrationDriver {

    private static final System.Logger LOG = System.getLogger(ClientMigrationDriver.class.getName());
    /** Kwik 0.10.9 keeps at most 2 peer IDs whatever is advertised (W12, docs/kwik-workarounds.md#w12), so that is our limit. */
    static final int ACTIVE_CONNECTION_ID_LIMIT = 2;

    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final PeerConnectionIds peerIds;
    private final ClientMigrator migrator;
    private final List<MigrationObserver> observers = new CopyOnWriteArrayList<>();
    private final long epochNanos = System.nanoTime();
    private ScheduledFuture<?> timer;
    private volatile int spareCount;
    private volatile List<String> activePeerIds = List.of();
    private volatile boolean stopped;
    private final ClientPathActions paths;
    private final ClientStandby standby;
    private final ClientMigrationRequests requests;
    /** The network-change policy's runner; binding thread only, but for {@link #noUsableNetwork}. */
    private final NetworkPolicyRunner policy;

    private ClientMigrationDriver(QuicClientConnectionImpl connection, ClientPathSocket socket, InetSocketAddress server,
                                  RandomGenerator random, PolicyConfig policyConfig, NetworkFeed networks,
                                  boolean localAddressChosen) {
        this.connection = connection;
        this.socket = socket;
        ConnectionId initial = ConnectionId.of(connection.getDestinationConnectionId());
        this.peerIds = new PeerConnectionIds(ACTIVE_CONNECTION_ID_LIMIT, initial, null);
        Tuple first = new Tuple(socket.activeLocal(), server);
        peerIds.bind(first, 0);
        socket.route(initial, first.local());
        socket.resealProbesWith(new ProbeResealer(connection));
        // Kwik registered the server's NEW_CONNECTION_ID frames that arrived with the handshake; mirror them.
        for (Map.Entry<Integer, ConnectionIdInfo> entry : connection.getDestinationConnectionIds().entrySet()) {
            if (entry.getKey() > 0) {
                try {
                    ConnectionIdInfo info = entry.getValue();
                    peerIds.onNewConnectionId(entry.getKey(), ConnectionId.of(info.getConnectionId()),
                            info.getStatelessResetToken() == null ? null : StatelessResetToken.of(info.getStatelessResetToken()), 0);
                } catch (TransportErrorException e) {
                    LOG.log(System.Logger.Level.DEBUG, "ignoring peer connection ID Kwik accepted: " + e.getMessage());
                }
            }
        }
        snapshotPeerIds();
        long maxAckDelay = connection.getPeerTransportParameters() == null ? 25
                : connection.getPeerTransportParameters().getMaxAckDelay();
        this.migrator = new ClientMigrator(peerIds, first, Duration.ofMillis(maxAckDelay), random);
        this.paths = new ClientPathActions(connection, socket, migrator, observers, epochNanos, initial, server);
        this.standby = new ClientStandby(this, connection, socket, migrator, paths, observers);
        this.requests = new ClientMigrationRequests(this, connection, socket, peerIds, migrator, standby, observers);
        this.policy = new NetworkPolicyRunner(connection, socket, server, networks, policyConfig, localAddressChosen,
                new ClientPolicyHost(this, connection, socket, migrator, paths, standby, requests, observers));
    }

    /** Starts migration support for a connected client. Called once, after the handshake. */
    static ClientMigrationDriver start(QuicClientConnectionImpl connection, ClientPathSocket socket,
                                       InetSocketAddress server, RandomGenerator random, boolean followPreferredAddress) {
        return start(connection, socket, server, random, followPreferredAddress, PolicyConfig.disabled(),
                NetworkFeed.NONE, false);
    }

    /** Starts migration support and the network-change policy for a connected client. */
    static ClientMigrationDriver start(QuicClientConnectionImpl connection, ClientPathSocket socket,
                                       InetSocketAddress server, RandomGenerator random, boolean followPreferredAddress,
                                       PolicyConfig policyConfig, NetworkFeed networks, boolean localAddressChosen) {
        ClientPreferredAddress.registerId(connection);
        InetSocketAddress preferred = followPreferredAddress ? ClientPreferredAddress.of(connection, server) : null;
        // W11 (docs/kwik-workarounds.md#w11): the client never issues spare connection IDs of its own after the handshake,
        // so a server would have no fresh ID to follow us with. Issue up to the server's limit (RFC 9000 5.1.1).
        long serverLimit = connection.getPeerTransportParameters() == null ? 2
                : connection.getPeerTransportParameters().getActiveConnectionIdLimit();
        int spares = (int) Math.min(serverLimit, 8) - 1;
        if (spares > 0) {
            connection.newConnectionIds(spares, 0);
        }
        ClientMigrationDriver driver = new ClientMigrationDriver(connection, socket, server, random, policyConfig,
                networks, localAddressChosen);
        driver.watchPaths();
        if (preferred != null) {
            new PreferredAddressMove(driver, connection, socket, driver.requests, server, preferred)
                    .followWhenConfirmed(System.nanoTime() + PreferredAddressMove.PREFERRED_ADDRESS_WAIT_NANOS);
        }
        return driver;
    }

    /**
     * Watches the paths' sockets: a failure is reported (events, the close reason) and, on the active path, fed to the
     * policy, which also starts following the network feed.
     */
    private void watchPaths() {
        socket.onPathFailure(new PathFailures.Listener() {
            @Override
            public void pathFailed(InetSocketAddress local, java.io.IOException error) {
                String reason = String.valueOf(error.getMessage());
                THREAD.execute(() -> onPathFailed(local, reason));
            }

            @Override
            public void pathWorks(InetSocketAddress local) {
                THREAD.execute(() -> onPathWorks(local));
            }
        });
        policy.start();
    }

    private void onPathFailed(InetSocketAddress local, String reason) {
        if (stopped) {
            return;
        }
        Tuple tuple = new Tuple(local, paths.activeRemote());
        observers.forEach(o -> o.pathFailed(tuple, reason));
        perform(migrator.onPathFailed(now(), tuple));
        if (local.equals(socket.activeLocal())) {
            policy.activePathFailed(local);
        }
    }

    private void onPathWorks(InetSocketAddress local) {
        if (stopped) {
            return;
        }
        migrator.onPathWorks(new Tuple(local, paths.activeRemote()));
        if (local.equals(socket.activeLocal())) {
            policy.activePathWorks(local);
        }
    }

    /**
     * True while the connection has no network to use: its active path failed and no other is usable. A connection
     * that idles out in that state ended because its network went away. Any thread.
     */
    public boolean noUsableNetwork() {
        return policy.noUsableNetwork();
    }

    /**
     * For stall reports; any thread. The peer IDs come from the binding thread's last snapshot: {@link #peerIds}
     * belongs to that thread (reading it from another thread can throw ConcurrentModificationException).
     */
    String describeSocket() {
        java.util.StringJoiner kwik = new java.util.StringJoiner(" ");
        connection.getDestinationConnectionIds().forEach((sequence, info) ->
                kwik.add(sequence + "=" + ConnectionId.of(info.getConnectionId()) + "/" + info.getConnectionIdStatus()));
        return socket.describe() + "; peer IDs " + String.join(" ", activePeerIds) + " (spare " + spareCount
                + "); Kwik's " + kwik;
    }

    void trace(WireTrace trace) {
        socket.trace(trace);
    }

    public void addObserver(MigrationObserver observer) {
        observers.add(observer);
    }

    /** The peer IDs nobody uses yet: what the next migrations can take. */
    public int spareConnectionIds() {
        return spareCount;
    }

    /** The active peer IDs as hex, lowest sequence first (a snapshot taken on the binding thread). */
    public List<String> activePeerIds() {
        return activePeerIds;
    }

    /** The destination ID application packets use now. */
    public ConnectionId activePeerId() {
        return paths.activePeerId();
    }

    public InetSocketAddress localAddress() {
        return socket.activeLocal();
    }

    /** The server address packets go to now (the preferred address once the client moved there). */
    public InetSocketAddress remoteAddress() {
        return paths.activeRemote();
    }

    /**
     * Moves the connection to a new local address: at once, validating in the background
     * ({@link MigrationMode#SWITCH_THEN_VALIDATE}), or once the new path answered a challenge
     * ({@link MigrationMode#VALIDATE_THEN_SWITCH}).
     *
     * @return completes with the outcome once the new path is validated or abandoned; fails with
     *         {@link MigrationRefusedException} or {@link SocketException} (address unusable) if nothing started
     */
    public CompletableFuture<MigrationOutcome> migrate(InetSocketAddress newLocal, MigrationMode mode) {
        CompletableFuture<MigrationOutcome> result = new CompletableFuture<>();
        THREAD.execute(() -> requests.start(newLocal, paths.activeRemote(), mode, MigrationCause.APPLICATION, result));
        return result;
    }

    /**
     * Keeps a validated standby path on {@code requested} (see {@link ClientMigrator#addStandby}), probed again every
     * {@code reprobeInterval}.
     *
     * @return completes with the bound local address once the first probe is queued; fails with
     *         {@link MigrationRefusedException} or {@link SocketException} (address unusable) if nothing started
     */
    public CompletableFuture<InetSocketAddress> addStandby(InetSocketAddress requested, Duration reprobeInterval) {
        return standby.add(requested, reprobeInterval, false);
    }

    /** Gives up the standby path, if any: its ID is retired and its socket closed. */
    public CompletableFuture<Void> removeStandby() {
        return standby.remove();
    }

    /** Kwik's receiver thread saw a PATH_RESPONSE. */
    void onPathResponse(PathResponseFrame frame) {
        byte[] data = frame.getData();
        THREAD.execute(() -> perform(migrator.onPathResponse(now(), data)));
    }

    /** Kwik's receiver thread saw a NEW_CONNECTION_ID; Kwik processes it too (retire_prior_to, limits). */
    void onNewConnectionId(NewConnectionIdFrame frame) {
        long sequence = frame.getSequenceNr();
        ConnectionId id = ConnectionId.of(frame.getConnectionId());
        StatelessResetToken token = StatelessResetToken.of(frame.getStatelessResetToken());
        long retirePriorTo = frame.getRetirePriorTo();
        THREAD.execute(() -> {
            try {
                for (MigrationAction action : migrator.onNewConnectionId(now(), sequence, id, token, retirePriorTo)) {
                    // Kwik already retires what retire_prior_to covers and moves its own current ID; mirror only.
                    if (action instanceof MigrationAction.UsePath use) {
                        paths.mirror(use);
                    }
                }
            } catch (TransportErrorException e) {
                LOG.log(System.Logger.Level.DEBUG, "peer connection ID rule broken (Kwik handles the error): " + e.getMessage());
            }
            snapshotPeerIds();
        });
    }

    /**
     * The destination ID of the path on {@code local} if it is being probed before use (validate first), else null;
     * any thread. A PATH_CHALLENGE the server sends there is answered there, with this ID (RFC 9000 8.2.2, 9.5).
     */
    byte[] probingPathId(InetSocketAddress local) {
        return paths.probingPathId(local);
    }

    /** Where the packets declared lost at a move are recorded (see {@link DeclaredLosses}). */
    void declaredLosses(DeclaredLosses losses) {
        paths.declaredLosses(losses);
    }

    void stop() {
        stopped = true;
        THREAD.execute(() -> {
            policy.stop();
            if (timer != null) {
                timer.cancel(false);
            }
            requests.stop();
        });
    }

    /** Whether the connection has ended; any thread. */
    boolean stopped() {
        return stopped;
    }

    NetworkPolicyRunner policy() {
        return policy;
    }

    /** Performs the core's actions, then mirrors its peer IDs and sets its next timer; binding thread. */
    void perform(List<MigrationAction> actions) {
        for (MigrationAction action : actions) {
            try {
                performOne(action);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "migration step " + action + " failed", e);
            }
        }
        snapshotPeerIds();
        scheduleTimer();
    }

    private void performOne(MigrationAction action) {
        if (action instanceof MigrationAction.UsePath use) {
            paths.usePath(use);
        } else if (action instanceof MigrationAction.SendPathChallenge challenge) {
            paths.sendChallenge(challenge);
        } else if (action instanceof MigrationAction.RetirePeerId retire) {
            paths.retirePeerId(retire);
        } else if (action instanceof MigrationAction.ResetRecovery) {
            paths.resetRecovery();
        } else if (action instanceof MigrationAction.ClosePath close) {
            paths.closePathSoon(close);
        } else if (action instanceof MigrationAction.StandbyChanged changed) {
            standby.changed(changed);
        } else if (action instanceof MigrationAction.StateChanged changed) {
            MigrationCause cause = requests.cause();
            observers.forEach(o -> o.stateChanged(changed.from(), changed.to(), changed.tuple(), cause));
        } else if (action instanceof MigrationAction.PathValidated validated) {
            observers.forEach(o -> o.validationSucceeded(validated.tuple(), validated.roundTripNanos()));
        } else if (action instanceof MigrationAction.SeedRecoveryFromValidation seed) {
            paths.seedRecovery(seed.roundTripNanos());
        } else if (action instanceof MigrationAction.AnnounceMove) {
            paths.announceMove();
        } else if (action instanceof MigrationAction.Finished finished) {
            requests.finish(finished);
        }
    }

    private void snapshotPeerIds() {
        spareCount = peerIds.spareCount();
        activePeerIds = peerIds.active().stream().map(entry -> entry.id().toString()).toList();
    }

    private void scheduleTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        long next = migrator.nextTimerNanos();
        if (next != Long.MAX_VALUE) {
            long delay = Math.max(0, next - now());
            timer = THREAD.schedule(() -> perform(migrator.onTimer(now())), delay, TimeUnit.NANOSECONDS);
        }
    }

    Duration pto() {
        return Duration.ofMillis(KwikRecovery.ptoMillis(connection));
    }

    long now() {
        return System.nanoTime() - epochNanos;
    }
}
