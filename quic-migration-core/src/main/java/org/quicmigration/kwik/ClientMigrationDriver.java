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
import org.quicmigration.core.migration.MigrationRefusal;
import org.quicmigration.core.migration.MigrationRefusedException;
import org.quicmigration.core.migration.StandbyState;
import org.quicmigration.core.policy.PolicyConfig;

/**
 * Internal: runs the sans-IO {@link ClientMigrator} against a live Kwik client connection. Every core call happens
 * on the binding's thread ({@link BindingThreads}); frames observed on Kwik's receiver thread are handed to it.
 * The driver performs the core's actions: routes destination IDs to path sockets, switches Kwik's destination ID,
 * sends PATH_CHALLENGE (Kwik pads such datagrams to 1200 bytes), retires IDs and resets recovery.
 */
public final class ClientMigrationDriver {

    private static final System.Logger LOG = System.getLogger(ClientMigrationDriver.class.getName());
    /** Kwik 0.10.9 keeps at most 2 peer IDs whatever is advertised (W12, docs/kwik-workarounds.md#w12), so that is our limit. */
    static final int ACTIVE_CONNECTION_ID_LIMIT = 2;
    /** Bounds on how long a path left behind keeps receiving (see the ClosePath action). */
    private static final long MIN_LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_LINGER_NANOS = TimeUnit.SECONDS.toNanos(3);

    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final InetSocketAddress server;
    private final PeerConnectionIds peerIds;
    private final ClientMigrator migrator;
    private final List<MigrationObserver> observers = new CopyOnWriteArrayList<>();
    private final long epochNanos = System.nanoTime();
    private CompletableFuture<MigrationOutcome> pending;
    private ScheduledFuture<?> timer;
    private volatile int spareCount;
    private volatile List<String> activePeerIds = List.of();
    private volatile ConnectionId activePeerId;
    private volatile InetSocketAddress activeRemote;
    /** The network-change policy's runner; binding thread only, but for {@link #noUsableNetwork}. */
    private final NetworkPolicyRunner policy;
    /** Whether the standby, if any, is the policy's (the application's own is never given up for a move). */
    private boolean policyStandby;
    /** Why the migration in progress started, and the local address it goes to; binding thread only. */
    private MigrationCause pendingCause;
    private java.net.InetAddress pendingTarget;
    /** Application requests that joined the policy's migration to the same address; binding thread only. */
    private final List<CompletableFuture<MigrationOutcome>> joined = new java.util.ArrayList<>();

    private ClientMigrationDriver(QuicClientConnectionImpl connection, ClientPathSocket socket, InetSocketAddress server,
                                  RandomGenerator random, PolicyConfig policyConfig, NetworkFeed networks,
                                  boolean localAddressChosen) {
        this.connection = connection;
        this.socket = socket;
        this.server = server;
        ConnectionId initial = ConnectionId.of(connection.getDestinationConnectionId());
        this.peerIds = new PeerConnectionIds(ACTIVE_CONNECTION_ID_LIMIT, initial, null);
        Tuple first = new Tuple(socket.activeLocal(), server);
        peerIds.bind(first, 0);
        this.activePeerId = initial;
        this.activeRemote = server;
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
        this.policy = new NetworkPolicyRunner(connection, socket, server, networks, policyConfig, localAddressChosen,
                new PolicyHost());
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
            driver.followPreferredAddressWhenConfirmed(preferred, System.nanoTime() + PREFERRED_ADDRESS_WAIT_NANOS);
        }
        return driver;
    }

    /**
     * Watches the paths' sockets: a failure is reported (events, the close reason) and, on the active path, fed to the
     * policy, which also starts following the network feed.
     */
    private void watchPaths() {
        socket.onPathFailure(new ClientPathSocket.PathFailureListener() {
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
        Tuple tuple = new Tuple(local, activeRemote);
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
        migrator.onPathWorks(new Tuple(local, activeRemote));
        if (local.equals(socket.activeLocal())) {
            policy.activePathWorks(local);
        }
    }

    /** What the policy's runner asks of this driver; binding thread. */
    private final class PolicyHost implements NetworkPolicyRunner.Host {
        @Override
        public boolean stopped() {
            return stopped;
        }

        @Override
        public long now() {
            return ClientMigrationDriver.this.now();
        }

        @Override
        public InetSocketAddress activeRemote() {
            return activeRemote;
        }

        @Override
        public void migrate(InetSocketAddress local, MigrationMode mode, MigrationCause cause) {
            startMigration(local, activeRemote, mode, cause, new CompletableFuture<>());
        }

        @Override
        public void noUsableNetwork() {
            Tuple active = new Tuple(socket.activeLocal(), activeRemote);
            observers.forEach(o -> o.noUsableNetwork(active));
        }

        @Override
        public void resume(java.net.InetAddress local) {
            if (socket.activeLocal().getAddress().equals(local) && migrator.currentCause() == null) {
                KwikCongestion.resumeAfterOutage(connection, declaredLosses); // W36
                Tuple active = new Tuple(socket.activeLocal(), activeRemote);
                observers.forEach(o -> o.pathResumed(active));
            }
        }

        @Override
        public void keepStandby(InetSocketAddress local, Duration probeInterval) {
            addStandby(local, probeInterval, true).whenComplete((bound, error) -> THREAD.execute(() -> {
                if (stopped) {
                    return;
                }
                if (error != null) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "no standby on " + local + ": " + error.getMessage());
                    policy.standbyRefused();
                } else {
                    policy.standbyChanged(bound.getAddress());
                }
            }));
        }

        @Override
        public void dropStandby() {
            perform(migrator.removeStandby());
        }
    }

    /**
     * True while the connection has no network to use: its active path failed and no other is usable. A connection
     * that idles out in that state ended because its network went away. Any thread.
     */
    public boolean noUsableNetwork() {
        return policy.noUsableNetwork();
    }

    /** How long to wait for the handshake to be confirmed before giving up on the preferred address. */
    private static final long PREFERRED_ADDRESS_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * RFC 9000 9.6.1: "the client ... SHOULD initiate path validation ... using the server's preferred address
     * ... once the handshake is confirmed". Waits for confirmation on the binding thread, then migrates to it.
     */
    private void followPreferredAddressWhenConfirmed(InetSocketAddress preferred, long deadlineNanos) {
        THREAD.schedule(() -> {
            if (stopped) {
                return;
            }
            if (!KwikHandshake.handshakeConfirmed(connection)) {
                if (System.nanoTime() < deadlineNanos) {
                    followPreferredAddressWhenConfirmed(preferred, deadlineNanos);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "handshake not confirmed in time; not moving to preferred address " + preferred);
                }
                return;
            }
            CompletableFuture<MigrationOutcome> outcome = new CompletableFuture<>();
            // RFC 9000 9.6.1: validate first; "If path validation succeeds, the client SHOULD immediately begin sending
            // all future packets to the new server address ... If path validation fails, the client MUST continue
            // sending all future packets to the server's original IP address."
            startMigration(new InetSocketAddress(socket.activeLocal().getAddress(), 0), preferred,
                    MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.SERVER_PREFERRED_ADDRESS, outcome);
            outcome.whenComplete((result, error) -> {
                if (error != null) {
                    LOG.log(System.Logger.Level.WARNING, "cannot move to the server's preferred address " + preferred + ": " + error);
                } else if (!result.validated()) {
                    LOG.log(System.Logger.Level.WARNING, "server's preferred address " + preferred + " did not answer; staying on " + server);
                }
            });
        }, 5, TimeUnit.MILLISECONDS);
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
        return activePeerId;
    }

    public InetSocketAddress localAddress() {
        return socket.activeLocal();
    }

    /** The server address packets go to now (the preferred address once the client moved there). */
    public InetSocketAddress remoteAddress() {
        return activeRemote;
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
        THREAD.execute(() -> startMigration(newLocal, activeRemote, mode, MigrationCause.APPLICATION, result));
        return result;
    }

    private void startMigration(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode,
                                MigrationCause cause, CompletableFuture<MigrationOutcome> result) {
        startMigration(requested, remote, mode, cause, result, -1);
    }

    /** How long a migration waits for the spare ID a policy's standby held: the server's answer to its retirement. */
    private static final long SPARE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long SPARE_POLL_MILLIS = 5;

    /**
     * @param waitedNanos how long this migration has waited for the spare ID the policy's standby gave up; -1 if it
     *                    has not given one up
     */
    private void startMigration(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode,
                                MigrationCause cause, CompletableFuture<MigrationOutcome> result, long waitedNanos) {
        if (policyStandby && !stopped && peerIds.spareCount() == 0 && migrator.standbyTuple().isPresent()
                && standbyFor(requested, remote) == null) {
            // The policy's standby holds the only spare ID and this move goes elsewhere: the standby is given up;
            // the server answers its ID's retirement with a new one, which the move then takes.
            perform(migrator.removeStandby());
            waitedNanos = 0;
        }
        if (waitedNanos >= 0 && waitedNanos < SPARE_WAIT_NANOS && peerIds.spareCount() == 0 && !stopped) {
            long waited = waitedNanos + TimeUnit.MILLISECONDS.toNanos(SPARE_POLL_MILLIS);
            THREAD.schedule(() -> startMigration(requested, remote, mode, cause, result, waited), SPARE_POLL_MILLIS,
                    TimeUnit.MILLISECONDS);
            return;
        }
        startMigrationNow(requested, remote, mode, cause, result);
    }

    private void startMigrationNow(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode,
                                   MigrationCause cause, CompletableFuture<MigrationOutcome> result) {
        boolean policyOwn = isPolicyCause(cause);
        if (stopped) {
            result.completeExceptionally(new SocketException("the connection has ended"));
            return;
        }
        if (!policyOwn && pending != null && pendingCause != null && isPolicyCause(pendingCause)
                && requested.getPort() == 0 && requested.getAddress().equals(pendingTarget)) {
            // The policy is already moving there (the application reacted to the same network change): one
            // migration, both told how it ended.
            joined.add(result);
            return;
        }
        try {
            boolean confirmed = KwikHandshake.handshakeConfirmed(connection);
            boolean disabled = connection.getPeerTransportParameters() != null
                    && connection.getPeerTransportParameters().getDisableMigration();
            Tuple standby = standbyFor(requested, remote);
            InetSocketAddress bound;
            if (standby != null) {
                bound = standby.local(); // its socket is open and its path validated: the core switches at once
            } else {
                migrator.checkMigrationAllowed(confirmed, disabled, remote);
                if (requested.getPort() != 0 && socket.hasPath(requested) && !requested.equals(socket.activeLocal())) {
                    socket.removePathAndRelease(requested); // a path left a moment ago, still receiving: bind it again
                }
                bound = socket.addPath(requested, remote);
            }
            List<MigrationAction> actions;
            try {
                actions = migrator.migrate(now(), new Tuple(bound, remote), mode, cause, confirmed, disabled, pto());
            } catch (MigrationRefusedException | RuntimeException e) {
                if (standby == null) {
                    socket.removePath(bound);
                }
                throw e;
            }
            pending = result;
            pendingCause = cause;
            pendingTarget = bound.getAddress();
            if (!policyOwn) {
                policy.migrationStarted(cause);
            }
            // Told on the next turn of the binding thread, after the actions that ended the migration are done.
            result.whenComplete((outcome, error) -> THREAD.execute(() -> migrationEnded(outcome)));
            perform(actions);
        } catch (MigrationRefusedException | SocketException | RuntimeException e) {
            result.completeExceptionally(e);
            if (policyOwn) {
                LOG.log(System.Logger.Level.INFO, () -> "cannot move to " + requested + " (" + cause + "): " + e.getMessage());
                THREAD.execute(() -> migrationEnded(null));
            }
        }
    }

    /** The standby path a move to {@code requested} (any port if 0) and {@code remote} goes to, or null. */
    private Tuple standbyFor(InetSocketAddress requested, InetSocketAddress remote) {
        return migrator.standbyTuple()
                .filter(tuple -> tuple.remote().equals(remote) && sameLocal(requested, tuple.local())).orElse(null);
    }

    /** Whether {@code requested} (any port if 0) names the bound address {@code local}. */
    private static boolean sameLocal(InetSocketAddress requested, InetSocketAddress local) {
        return requested.getAddress().equals(local.getAddress())
                && (requested.getPort() == 0 || requested.getPort() == local.getPort());
    }

    /**
     * Keeps a validated standby path on {@code requested} (see {@link ClientMigrator#addStandby}), probed again every
     * {@code reprobeInterval}.
     *
     * @return completes with the bound local address once the first probe is queued; fails with
     *         {@link MigrationRefusedException} or {@link SocketException} (address unusable) if nothing started
     */
    public CompletableFuture<InetSocketAddress> addStandby(InetSocketAddress requested, Duration reprobeInterval) {
        return addStandby(requested, reprobeInterval, false);
    }

    private CompletableFuture<InetSocketAddress> addStandby(InetSocketAddress requested, Duration reprobeInterval,
                                                            boolean forPolicy) {
        CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + STANDBY_START_WAIT_NANOS;
        THREAD.execute(() -> startStandby(requested, reprobeInterval, forPolicy, result, deadline));
        return result;
    }

    /**
     * How long a standby asked for right after the handshake waits for what it needs: the handshake's confirmation
     * (HANDSHAKE_DONE) and the server's first spare connection ID, which may both still be on their way.
     */
    private static final long STANDBY_START_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);

    private void startStandby(InetSocketAddress requested, Duration reprobeInterval, boolean forPolicy,
                              CompletableFuture<InetSocketAddress> result, long deadline) {
        if (stopped) {
            result.completeExceptionally(new SocketException("the connection has ended"));
            return;
        }
        InetSocketAddress bound = null;
        try {
            boolean confirmed = KwikHandshake.handshakeConfirmed(connection);
            boolean disabled = connection.getPeerTransportParameters() != null
                    && connection.getPeerTransportParameters().getDisableMigration();
            migrator.checkStandbyAllowed(confirmed, disabled, activeRemote);
            bound = socket.addPath(requested, activeRemote);
            List<MigrationAction> actions = migrator.addStandby(now(), new Tuple(bound, activeRemote), confirmed,
                    disabled, pto(), reprobeInterval);
            policyStandby = forPolicy;
            result.complete(bound);
            perform(actions);
        } catch (MigrationRefusedException e) {
            if (bound != null && migrator.standbyTuple().isEmpty()) {
                socket.removePath(bound);
            }
            boolean soon = e.refusal() == MigrationRefusal.HANDSHAKE_NOT_CONFIRMED
                    || e.refusal() == MigrationRefusal.NO_SPARE_CONNECTION_ID && migrator.standbyTuple().isEmpty();
            if (soon && System.nanoTime() < deadline) {
                THREAD.schedule(() -> startStandby(requested, reprobeInterval, forPolicy, result, deadline),
                        SPARE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                result.completeExceptionally(e);
            }
        } catch (SocketException | RuntimeException e) {
            if (bound != null && migrator.standbyTuple().isEmpty()) {
                socket.removePath(bound);
            }
            result.completeExceptionally(e);
        }
    }

    /** Gives up the standby path, if any: its ID is retired and its socket closed. */
    public CompletableFuture<Void> removeStandby() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        THREAD.execute(() -> {
            if (!stopped) {
                perform(migrator.removeStandby());
            }
            result.complete(null);
        });
        return result;
    }

    private static boolean isPolicyCause(MigrationCause cause) {
        return cause != MigrationCause.APPLICATION && cause != MigrationCause.SERVER_PREFERRED_ADDRESS;
    }

    private void migrationEnded(MigrationOutcome outcome) {
        if (stopped) {
            return;
        }
        policy.migrationEnded(socket.activeLocal(), outcome != null && outcome.validated());
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
                        socket.route(use.peerId().id(), use.tuple().local());
                        activePeerId = use.peerId().id();
                    }
                }
            } catch (TransportErrorException e) {
                LOG.log(System.Logger.Level.DEBUG, "peer connection ID rule broken (Kwik handles the error): " + e.getMessage());
            }
            snapshotPeerIds();
        });
    }

    private volatile boolean stopped;
    private volatile DeclaredLosses declaredLosses;
    /** The path being probed before use (validate first), or null. */
    private volatile Probing probing;

    /** A path probed before use: its local address and its destination connection ID. */
    private record Probing(InetSocketAddress local, byte[] peerId) {
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

    /** Where the packets declared lost at a move are recorded (see {@link DeclaredLosses}). */
    void declaredLosses(DeclaredLosses losses) {
        this.declaredLosses = losses;
    }

    void stop() {
        stopped = true;
        THREAD.execute(() -> {
            policy.stop();
            if (timer != null) {
                timer.cancel(false);
            }
            SocketException closed = new SocketException("connection closed during migration");
            if (pending != null) {
                pending.completeExceptionally(closed);
                pending = null;
            }
            joined.forEach(future -> future.completeExceptionally(closed));
            joined.clear();
        });
    }

    private void perform(List<MigrationAction> actions) {
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

    /**
     * The move is in place (the new path's ID and socket): a PING, queued now, leaves on the new path, so the server
     * learns of the move at once. Without it, when the old network is dead nothing else would go out on the new path
     * until the silence PING (W10), 150 ms or more later.
     */
    private void announceMove() {
        // W35: the last ACKs may have gone to a dead network; the first non-probing packet here repeats them all
        // (after the challenge: a small first datagram would leave the server a small budget, RFC 9000 8).
        KwikAcks.acknowledgeAllInNextPacket(connection);
        connection.send(new tech.kwik.core.frame.PingFrame(), lost -> { }, true);
    }

    private void performOne(MigrationAction action) {
        if (action instanceof MigrationAction.UsePath use) {
            usePath(use);
        } else if (action instanceof MigrationAction.SendPathChallenge challenge) {
            sendChallenge(challenge);
        } else if (action instanceof MigrationAction.RetirePeerId retire) {
            retirePeerId(retire);
        } else if (action instanceof MigrationAction.ResetRecovery) {
            KwikCongestion.resetRecovery(connection, declaredLosses);
        } else if (action instanceof MigrationAction.ClosePath close) {
            closePathSoon(close);
        } else if (action instanceof MigrationAction.StandbyChanged standby) {
            reportStandby(standby);
        } else if (action instanceof MigrationAction.StateChanged changed) {
            MigrationCause cause = pendingCause == null ? MigrationCause.APPLICATION : pendingCause;
            observers.forEach(o -> o.stateChanged(changed.from(), changed.to(), changed.tuple(), cause));
        } else if (action instanceof MigrationAction.PathValidated validated) {
            observers.forEach(o -> o.validationSucceeded(validated.tuple(), validated.roundTripNanos()));
        } else if (action instanceof MigrationAction.SeedRecoveryFromValidation seed) {
            KwikCongestion.seedRttFromValidation(connection, seed.roundTripNanos()); // W22
            KwikCongestion.startRecoveryPeriod(connection);
        } else if (action instanceof MigrationAction.AnnounceMove) {
            announceMove();
        } else if (action instanceof MigrationAction.Finished finished) {
            finish(finished);
        }
    }

    private void usePath(MigrationAction.UsePath use) {
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

    private void sendChallenge(MigrationAction.SendPathChallenge challenge) {
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

    private void retirePeerId(MigrationAction.RetirePeerId retire) {
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

    private void closePathSoon(MigrationAction.ClosePath close) {
        Probing probed = probing;
        if (probed != null && probed.local().equals(close.tuple().local())) {
            probing = null;
        }
        // The path is no longer used for sending, but the server may have sent there until it saw us move, half
        // a round trip or more after the switch: closing the socket at once loses that data (about one round
        // trip of stall after a validate-first move). So it keeps receiving for three PTOs.
        long linger = Math.min(MAX_LINGER_NANOS, Math.max(MIN_LINGER_NANOS, 3 * pto().toNanos()));
        socket.closePathLater(close.tuple().local(), linger, THREAD);
    }

    private void reportStandby(MigrationAction.StandbyChanged standby) {
        observers.forEach(o -> o.standbyChanged(standby.tuple(), standby.state(), standby.roundTripNanos()));
        if (standby.state() == StandbyState.IN_USE || standby.state() == StandbyState.REMOVED) {
            if (policyStandby) {
                THREAD.execute(() -> {
                    if (!stopped) {
                        policy.standbyChanged(null);
                    }
                });
            }
            policyStandby = false;
        }
    }

    private void finish(MigrationAction.Finished finished) {
        MigrationOutcome outcome = finished.outcome();
        if (!outcome.validated()) {
            observers.forEach(o -> o.validationFailed(outcome.newTuple()));
        }
        CompletableFuture<MigrationOutcome> done = pending;
        pending = null;
        pendingCause = null;
        pendingTarget = null;
        if (!outcome.validated() && !outcome.fellBack() && !outcome.oldTuple().equals(outcome.newTuple())
                && socket.activeLocal().equals(outcome.newTuple().local())) {
            LOG.log(System.Logger.Level.INFO, () -> "path " + outcome.newTuple() + " did not answer, but the old path"
                    + " failed: staying on it");
        }
        if (done != null) {
            done.complete(outcome);
        }
        joined.forEach(future -> future.complete(outcome));
        joined.clear();
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

    private Duration pto() {
        return Duration.ofMillis(KwikRecovery.ptoMillis(connection));
    }

    private long now() {
        return System.nanoTime() - epochNanos;
    }
}
