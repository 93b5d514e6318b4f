package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.Padding;
import tech.kwik.core.frame.PathChallengeFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.server.impl.ServerConnectionImpl;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationState;
import org.quicmigration.core.migration.ServerPathAction;
import org.quicmigration.core.migration.ServerPathManager;

/**
 * Internal: the server side of migration for one connection, binding the sans-IO {@link ServerPathManager} to
 * Kwik's server (RFC 9000 9.3), which knows one address per client (W17, docs/kwik-workarounds.md#w17). Three threads meet
 * here:
 * <ul>
 * <li>Kwik's server receive thread {@linkplain #tagFor tags} each datagram with its true source: the datagram is
 *     presented to Kwik as coming from the client's first address (the only one Kwik accepts), through an
 *     {@link InetAddress} object that is equal to the first address but whose identity stands for the source;</li>
 * <li>the connection's packet thread reports each new authenticated 1-RTT packet ({@link #onPacket}); the tag in
 *     its metadata gives the source back, so the manager learns which path carried which packet number and
 *     frames;</li>
 * <li>the connection's sender thread hands each datagram to {@link #send}, which sends it on the active path
 *     within that path's anti-amplification budget (holding back what does not fit yet), or on the path a
 *     {@link RoutedProbeFrame} in it names.</li>
 * </ul>
 * Timers (challenge retransmission, validation timeout) run on {@link BindingThreads#SCHEDULER}. The manager is
 * guarded by this object's lock; Kwik is never called while holding it.
 */
final class ServerMigrationDriver {

    private static final System.Logger LOG = System.getLogger(ServerMigrationDriver.class.getName());

    /**
     * Datagrams held back for an unvalidated path; beyond this the oldest is dropped (Kwik will resend it). What is
     * held is data Kwik counts in flight, so its congestion window bounds it before this does; 1,024 full datagrams
     * are about 1.3 MB. Measured with 128: a download NAT-rebound every 300 ms at 25 ms each way overflowed it (29
     * dropped in one rebinding), Kwik took the drops for congestion and halved its window twice, and the window
     * stayed in congestion avoidance: 1.0 MB/s against 3.5 MB/s with 1,024 (8 MiB, no rebinding: 4.8 MB/s).
     */
    private static final int MAX_HELD_DATAGRAMS = 1024;

    private final ServerConnectionImpl connection;
    private final ServerPathSocket socket;
    private final InetSocketAddress local;
    private final InetSocketAddress first;
    private final Tuple firstPath;
    private final int maxTags;
    private final ServerPathManager manager;
    private final List<MigrationObserver> observers = new CopyOnWriteArrayList<>();

    // Tags: written by the receive thread, read by the packet thread. Datagrams to the main address are keyed by
    // source alone; those to a preferred address (rare) by their tuple.
    private final ConcurrentHashMap<InetSocketAddress, InetAddress> tagBySource = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Tuple, InetAddress> tagByPreferredTuple = new ConcurrentHashMap<>();
    private final ArrayDeque<Tag> tagsInOrder = new ArrayDeque<>(); // oldest first, guarded by itself

    /** An {@link InetAddress} object whose identity stands for {@code path}, the datagram's true source. */
    private record Tag(InetAddress presented, Tuple path) {
    }

    // Packet tracing: the observer, and where the last datagram went (sender thread). The thread-local names the driver whose sender thread this is, for the logger
    // hook, which only gets the packet.
    private static final ThreadLocal<ServerMigrationDriver> SENDING = new ThreadLocal<>();
    private volatile PacketObserver packetObserver;
    private Tuple lastSentOn;
    /** The last datagram sent was a path frame to take out of Kwik's recovery; sender thread only. */
    private boolean detachSent;

    // Packet thread only.
    private volatile boolean restoreIssuedIdLimit;
    private InetAddress lastTag;
    private Tuple lastTagPath;
    private boolean sawTag;
    private long largestPacketNumber = -1;
    private byte[] idOnActivePath;

    // Read by the sender thread without the lock (fast path), written under it.
    /**
     * The client ID used before the last switch to a fresh one, and the path it was used on: packets Kwik built with
     * it before the switch still go there, never to the new address (RFC 9000 9.5). Null when there is none.
     */
    private volatile LeftId leftIdAndPath;

    /** A client connection ID the server switched away from, and the path it was used on. */
    private record LeftId(byte[] id, Tuple path) {
    }
    private volatile Tuple activePath;
    private volatile boolean activeValidated = true;
    private volatile boolean holding;

    // Guarded by this.
    private Tuple activeTuple;
    private boolean challengePendingOnActive;
    private final ArrayDeque<byte[]> held = new ArrayDeque<>();
    private ScheduledFuture<?> timer;
    private int idToRetire = -1;
    private byte[] idToRetireBytes;
    /** When the connection last moved to a new port of the same client address (a NAT rebinding), or null. */
    private java.time.Instant reboundAt;
    /** Congestion control as it was at {@link #reboundAt}; see {@link KwikCongestion#congestionState}. */
    private KwikCongestion.CongestionSnapshot congestionAtRebind;
    private long heldDropped;
    private long probesDropped;
    private volatile boolean stopped;
    private volatile DeclaredLosses declaredLosses;
    private volatile java.util.Map<InetSocketAddress, String> firstSends;
    /**
     * Client connection IDs for paths the client probed with a new ID of ours, for our path frames there (RFC 9000
     * 9.5); chosen on the packet thread, read where path frames are queued. At most {@value #MAX_PROBE_IDS}.
     */
    private final ConcurrentHashMap<Tuple, byte[]> probeIds = new ConcurrentHashMap<>();
    private static final int MAX_PROBE_IDS = 4;
    /** Paths the client sent a PATH_CHALLENGE on while they were not active; at most {@value #MAX_PROBE_IDS}. */
    private final java.util.Set<Tuple> probedPaths = ConcurrentHashMap.newKeySet();
    private final ProbeResealer resealer;
    /** The last packet sealed again instead of Kwik's, for traces; sender thread only. */
    private QuicPacket lastResealed;

    ServerMigrationDriver(ServerConnectionImpl connection, ServerPathSocket socket, InetSocketAddress local,
                          InetSocketAddress first, ServerSettings settings, RandomGenerator random) {
        this.connection = connection;
        this.socket = socket;
        this.local = local;
        this.first = first;
        this.maxTags = Math.max(4, settings.maxPathsPerConnection() * 2);
        this.firstPath = new Tuple(local, first);
        this.activePath = firstPath;
        this.activeTuple = firstPath;
        this.manager = new ServerPathManager(activeTuple, settings.amplificationFactor(),
                settings.maxPathsPerConnection(), Duration.ofMillis(25), settings.pathValidationTimeout(),
                settings.pathMemory(), random);
        this.resealer = new ProbeResealer(connection);
    }

    /** See {@link KwikConnectionIds#reservePreferredAddressId}; called before the first packet can arrive. */
    void restoreIssuedIdLimitOnFirstPacket() {
        restoreIssuedIdLimit = true;
    }

    void addObserver(MigrationObserver observer) {
        observers.add(observer);
    }

    /** Where the packets declared lost at a move are recorded (see {@link DeclaredLosses}). */
    void declaredLosses(DeclaredLosses losses) {
        this.declaredLosses = losses;
    }

    void packetObserver(PacketObserver observer) {
        this.packetObserver = observer;
    }

    /**
     * Sender thread, from the logger hook after Kwik sent {@code packet}: reports it with the address its datagram
     * went to (or will go to, if held). Does nothing on a thread that is not a traced connection's sender.
     */
    static void traceSent(QuicPacket packet, java.time.Instant time) {
        ServerMigrationDriver driver = SENDING.get();
        PacketObserver observer = driver == null ? null : driver.packetObserver;
        Tuple path = driver == null ? null : driver.lastSentOn;
        if (observer != null && path != null) {
            QuicPacket resealed = driver.lastResealed;
            if (resealed != null && java.util.Objects.equals(resealed.getPacketNumber(), packet.getPacketNumber())) {
                driver.lastResealed = null;
                packet = resealed; // the path frame left sealed again for its path (ProbeResealer)
            }
            observer.packet(PacketDescriber.describe(packet, true, time, path.local(), path.remote()));
        }
    }

    /**
     * For the logger hook, which gets only the packet, right after a path frame left on this sender thread: the Kwik
     * connection, if that packet is to be taken out of Kwik's loss recovery ({@link
     * KwikRecovery#detachProbeFromRecovery}, W21: docs/kwik-workarounds.md#w21); else null. That is every path frame except those on a path the client
     * is probing (validate-first): frames to a binding a NAT rebinding left behind, or to one the NAT replaced before
     * it answered, are lost for certain, and each loss halved the window. Detaching the frames on a probed path too
     * made a validate-first handover slower (46-57 ms against 38-43 ms, A/B runs of 15 at 25 ms each way), for a
     * reason not found; so those stay in Kwik's recovery.
     */
    static ServerConnectionImpl takeProbeToDetach() {
        ServerMigrationDriver driver = SENDING.get();
        if (driver == null || !driver.detachSent) {
            return null;
        }
        driver.detachSent = false;
        return driver.connection;
    }

    InetSocketAddress firstAddress() {
        return first;
    }

    /** The client address the connection sends to now. */
    InetSocketAddress currentRemote() {
        return activePath.remote();
    }

    /** The server address the connection sends from now: the main one, or a preferred one the client moved to. */
    InetSocketAddress currentLocal() {
        return activePath.local();
    }

    void stop() {
        stopped = true;
        synchronized (this) {
            if (timer != null) {
                timer.cancel(false);
            }
            held.clear();
        }
    }

    // ---- receive thread ----------------------------------------------------------------------------------------

    /**
     * The address object to present a datagram from {@code source} to {@code to} with: equal to the first client
     * address (so Kwik accepts it) and standing for the path by its identity. At most {@code 2 x maxPaths} paths
     * are remembered; a datagram whose tag was forgotten before Kwik processed it is dropped (see
     * {@link #onPacket}).
     */
    InetAddress tagFor(InetSocketAddress to, InetSocketAddress source) {
        boolean main = to == local;
        Tuple preferredPath = main ? null : new Tuple(to, source);
        InetAddress tag = main ? tagBySource.get(source) : tagByPreferredTuple.get(preferredPath);
        if (tag != null) {
            return tag;
        }
        try {
            tag = InetAddress.getByAddress(first.getAddress().getAddress()); // a new object, equal to the first address
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: the length is that of a valid address
        }
        synchronized (tagsInOrder) {
            tagsInOrder.addLast(new Tag(tag, main ? new Tuple(local, source) : preferredPath));
            if (main) {
                tagBySource.put(source, tag);
            } else {
                tagByPreferredTuple.put(preferredPath, tag);
            }
            while (tagsInOrder.size() > maxTags) {
                Tag eldest = tagsInOrder.removeFirst();
                Tuple path = eldest.path();
                if (path.local() == local) {
                    tagBySource.remove(path.remote(), eldest.presented());
                } else {
                    tagByPreferredTuple.remove(path, eldest.presented());
                }
            }
        }
        return tag;
    }

    // ---- packet thread -----------------------------------------------------------------------------------------

    /**
     * A new authenticated 1-RTT packet, before Kwik processes its frames.
     *
     * @return false to drop it (its source can no longer be known)
     */
    boolean onPacket(QuicPacket packet, InetAddress presentedAddress, long nowNanos) {
        return onPacket(packet, presentedAddress, nowNanos, null);
    }

    /**
     * As {@link #onPacket(QuicPacket, InetAddress, long)}; {@code received} (when the datagram arrived) is given when
     * the packet is to be traced, which happens here, before a PATH_CHALLENGE is taken out of the packet.
     */
    boolean onPacket(QuicPacket packet, InetAddress presentedAddress, long nowNanos, java.time.Instant received) {
        if (restoreIssuedIdLimit) {
            restoreIssuedIdLimit = false;
            KwikConnectionIds.restoreIssuedIdLimit(connection);
        }
        Tuple path = pathOf(presentedAddress);
        if (path == null) {
            if (sawTag) {
                return false;
            }
            path = firstPath; // received before this driver tagged anything: from the first address, as Kwik checked
        } else {
            sawTag = true;
        }
        PacketObserver observer = packetObserver;
        if (observer != null && received != null) {
            observer.packet(PacketDescriber.describe(packet, false, received, path.local(), path.remote()));
        }
        List<QuicFrame> frames = packet.getFrames();
        boolean nonProbing = false;
        boolean pathFrames = false;
        for (int i = 0, n = frames.size(); i < n; i++) {
            QuicFrame frame = frames.get(i);
            if (frame instanceof PathChallengeFrame || frame instanceof PathResponseFrame) {
                pathFrames = true;
            } else if (!(frame instanceof Padding || frame instanceof NewConnectionIdFrame)) {
                nonProbing = true; // RFC 9000 9.1: all other frames are non-probing
            }
        }
        Long number = packet.getPacketNumber();
        boolean highest = number != null && number > largestPacketNumber;
        if (highest) {
            largestPacketNumber = number;
        }
        byte[] destinationId = packet.getDestinationConnectionId();
        boolean fromActive = path.equals(activePath);
        if (fromActive && !pathFrames && activeValidated) {
            rememberIdOnActivePath(destinationId);
            return true; // the common case: nothing for the path manager to do
        }
        boolean keptId = idOnActivePath == null || Arrays.equals(destinationId, idOnActivePath);
        List<ServerPathAction> actions;
        synchronized (this) {
            Duration pto = Duration.ofMillis(Math.max(1, KwikRecovery.ptoMillis(connection)));
            actions = new java.util.ArrayList<>(manager.onDatagram(nowNanos, path, packet.getSize(), nonProbing,
                    highest, keptId, pto));
            if (pathFrames) {
                boolean challenged = false;
                for (int i = 0, n = frames.size(); i < n; i++) {
                    if (frames.get(i) instanceof PathResponseFrame response) {
                        // RFC 9000 8.2.3: a response on any path validates the path its challenge was sent on.
                        actions.addAll(manager.onPathResponse(nowNanos, response.getData()));
                    }
                    challenged |= frames.get(i) instanceof PathChallengeFrame;
                }
                if (challenged && !path.equals(activeTuple)) {
                    if (probedPaths.size() >= MAX_PROBE_IDS) {
                        probedPaths.clear();
                    }
                    probedPaths.add(path);
                    if (!keptId) {
                        chooseProbeId(path);
                    }
                    actions.addAll(manager.onPathChallenge(nowNanos, path, pto));
                }
            }
        }
        if (path.equals(activePath) || actions.stream().anyMatch(a -> a instanceof ServerPathAction.SendOn)) {
            rememberIdOnActivePath(destinationId);
        }
        perform(actions, true);
        if (pathFrames) {
            answerChallengesOnTheirPath(frames, path);
        }
        releaseHeld();
        schedule();
        return true;
    }

    /**
     * The client probes {@code path} with a new connection ID of ours: our path frames there need a client ID not
     * used on any other path (RFC 9000 9.5). The one chosen is the one Kwik moves to next ({@link
     * KwikConnectionIds#serverPeekNextPeerId}), so if the client then moves there, the path keeps its ID. If that ID
     * already serves another probed path, or the client has no spare ID, our frames use the active path's ID.
     */
    private void chooseProbeId(Tuple path) {
        if (probeIds.containsKey(path)) {
            return;
        }
        byte[] next = KwikConnectionIds.serverPeekNextPeerId(connection);
        if (next == null || probeIds.values().stream().anyMatch(id -> Arrays.equals(id, next))) {
            return;
        }
        if (probeIds.size() >= MAX_PROBE_IDS) {
            probeIds.clear();
        }
        probeIds.put(path, next);
    }

    private void rememberIdOnActivePath(byte[] destinationId) {
        if (idOnActivePath == null || !Arrays.equals(destinationId, idOnActivePath)) {
            idOnActivePath = destinationId.clone();
        }
    }

    private Tuple pathOf(InetAddress presented) {
        if (presented == lastTag) {
            return lastTagPath;
        }
        synchronized (tagsInOrder) {
            for (Tag entry : tagsInOrder) {
                if (entry.presented() == presented) {
                    lastTag = presented;
                    lastTagPath = entry.path();
                    return lastTagPath;
                }
            }
        }
        return null;
    }

    /**
     * RFC 9000 8.2.2: "An endpoint MUST ... send a PATH_RESPONSE frame on the network path where the PATH_CHALLENGE
     * frame was received." Kwik would answer on the active path, and only when congestion control lets it: a client
     * that moved away from a dead path still counts the bytes it lost there as in flight, so Kwik's answer waited
     * until the client gave up (seen in tests). So the challenge is taken out of the packet before Kwik sees it and
     * answered here, as a probe on the path it came from (W19, docs/kwik-workarounds.md#w19). If Kwik's frame list cannot be changed, Kwik's answer
     * stands; a response on any path still validates the peer's path (8.2.3).
     */
    private void answerChallengesOnTheirPath(List<QuicFrame> frames, Tuple path) {
        for (int i = frames.size() - 1; i >= 0; i--) {
            if (frames.get(i) instanceof PathChallengeFrame challenge) {
                try {
                    // Replaced rather than removed: Kwik closes the connection on a packet left with no frames
                    // (PROTOCOL_VIOLATION), which an unpadded challenge would be.
                    frames.set(i, new Padding(1));
                } catch (UnsupportedOperationException e) {
                    return;
                }
                sendPathFrame(RoutedProbeFrame.PATH_RESPONSE, challenge.getData(), path);
            }
        }
    }

    // ---- timers ------------------------------------------------------------------------------------------------

    private void schedule() {
        long next;
        synchronized (this) {
            next = manager.nextTimerNanos();
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            if (next == Long.MAX_VALUE || stopped) {
                return;
            }
            long delay = Math.max(0, next - System.nanoTime());
            timer = BindingThreads.SCHEDULER.schedule(this::onTimer, delay, TimeUnit.NANOSECONDS);
        }
    }

    private void onTimer() {
        if (stopped) {
            return;
        }
        try {
            List<ServerPathAction> actions;
            synchronized (this) {
                actions = manager.onTimer(System.nanoTime());
            }
            perform(actions, false);
            releaseHeld();
            schedule();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "server path timer failed for " + first, e);
        }
    }

    // ---- actions -----------------------------------------------------------------------------------------------

    private void perform(List<ServerPathAction> actions, boolean fromPacket) {
        boolean freshId = actions.stream().anyMatch(a -> a instanceof ServerPathAction.UseFreshClientId);
        for (ServerPathAction action : actions) {
            if (action instanceof ServerPathAction.SendOn sendOn) {
                moveTo(sendOn.tuple(), freshId);
            } else if (action instanceof ServerPathAction.SendPathChallenge challenge) {
                sendPathFrame(RoutedProbeFrame.PATH_CHALLENGE, challenge.data(), challenge.tuple());
                if (fromPacket) {
                    observers.forEach(o -> o.validationStarted(challenge.tuple(), challenge.data()));
                }
            } else if (action instanceof ServerPathAction.ResetRecovery) {
                KwikCongestion.resetRecovery(connection, declaredLosses);
            } else if (action instanceof ServerPathAction.UseFreshClientId fresh) {
                KwikConnectionIds.NextPeerId ids = KwikConnectionIds.serverUseNextPeerId(connection);
                if (ids == null) {
                    LOG.log(System.Logger.Level.WARNING, "client " + fresh.tuple().remote()
                            + " moved but left no unused connection ID; the old one stays in use");
                    synchronized (this) {
                        leftIdAndPath = null; // the ID was not left behind: it serves the new path too
                    }
                } else {
                    // The ID used before the previous switch is in no packet Kwik is building now: retire it. The
                    // one just left waits until the new path is validated (W15, docs/kwik-workarounds.md#w15).
                    retireWaitingId();
                    synchronized (this) {
                        idToRetire = ids.leftSequence();
                        idToRetireBytes = ids.left();
                    }
                    observers.forEach(o -> o.peerIdChanged(ConnectionId.of(ids.left()), ConnectionId.of(ids.taken()),
                            fresh.tuple()));
                }
            } else if (action instanceof ServerPathAction.PathValidated validated) {
                boolean active;
                boolean reset;
                synchronized (this) {
                    active = validated.tuple().equals(activeTuple);
                    reset = reboundAt == null; // a NAT rebinding keeps its congestion state (see Migrated)
                }
                if (active && reset) {
                    KwikCongestion.seedRttFromValidation(connection, validated.roundTripNanos()); // W22
                    KwikCongestion.startRecoveryPeriod(connection);
                }
                observers.forEach(o -> o.validationSucceeded(validated.tuple(), validated.roundTripNanos()));
            } else if (action instanceof ServerPathAction.ValidationFailed failed) {
                observers.forEach(o -> o.validationFailed(failed.tuple()));
            } else if (action instanceof ServerPathAction.Migrated migrated) {
                boolean completedAtOnce = actions.stream().anyMatch(a -> a instanceof ServerPathAction.SendOn);
                java.time.Instant rebound;
                KwikCongestion.CongestionSnapshot congestion;
                synchronized (this) {
                    if (migrated.to().equals(activeTuple)) {
                        activeValidated = true;
                    }
                    rebound = migrated.to().onlyPortsDifferFrom(migrated.from()) ? reboundAt : null;
                    congestion = congestionAtRebind;
                    reboundAt = null;
                    congestionAtRebind = null;
                }
                if (rebound != null) {
                    // W23 and W33, docs/kwik-workarounds.md#w23
                    KwikCongestion.resendSentBefore(connection, rebound, congestion, declaredLosses);
                } else if (completedAtOnce && migrated.validationRttNanos() > 0) {
                    // A path validated before the move (a standby the client probed, an address it used recently):
                    // no validation follows to seed the reset RTT estimator, so its earlier one does (W22).
                    KwikCongestion.seedRttFromValidation(connection, migrated.validationRttNanos());
                }
                if (completedAtOnce) {
                    retireWaitingIdLater(); // see KwikConnectionIds.serverRetirePeerId: not in the moment of the switch
                } else {
                    retireWaitingIdOnceLeftPathSettled();
                }
                observers.forEach(o -> o.stateChanged(MigrationState.MIGRATION_STARTED,
                        MigrationState.MIGRATION_COMPLETE, migrated.to(), MigrationCause.PEER_MOVED));
            } else if (action instanceof ServerPathAction.FellBack fellBack) {
                observers.forEach(o -> o.stateChanged(MigrationState.MIGRATION_STARTED,
                        MigrationState.MIGRATION_ABANDONED, fellBack.failed(), MigrationCause.PEER_MOVED));
            }
        }
    }

    /**
     * As {@link #retireWaitingId}, a few round trips from now, for a move to a path validated beforehand: Kwik may
     * still be building a packet with the ID just left.
     */
    private void retireWaitingIdLater() {
        int sequence;
        synchronized (this) {
            sequence = idToRetire;
        }
        if (sequence < 0) {
            return;
        }
        long delay = Math.max(100, 2L * KwikRecovery.ptoMillis(connection));
        BindingThreads.SCHEDULER.schedule(() -> {
            boolean due;
            synchronized (this) {
                due = idToRetire == sequence && !stopped;
            }
            if (due) {
                retireWaitingIdOnceLeftPathSettled();
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /**
     * Retires the ID left behind unless the path it was used on is still being validated (RFC 9000 9.3.3): our
     * challenges there carry that ID (9.5), so it is retired when that validation ended, either way.
     */
    private void retireWaitingIdOnceLeftPathSettled() {
        LeftId left = leftIdAndPath;
        boolean settled;
        synchronized (this) {
            settled = left == null || !manager.isValidating(left.path());
        }
        if (settled) {
            retireWaitingId();
        } else {
            retireWaitingIdLater();
        }
    }

    /** Retires the client ID this connection moved away from, if one waits (RFC 9000 9.5, 19.16). */
    private void retireWaitingId() {
        int sequence;
        synchronized (this) {
            sequence = idToRetire;
            idToRetire = -1;
            LeftId left = leftIdAndPath;
            if (sequence >= 0 && left != null && Arrays.equals(left.id(), idToRetireBytes)) {
                leftIdAndPath = null; // nothing may use a retired ID
            }
            idToRetireBytes = null;
        }
        if (sequence >= 0) {
            KwikConnectionIds.serverRetirePeerId(connection, sequence);
        }
    }

    /** @param freshId whether the move also switches to a fresh client ID (the client changed its own) */
    private void moveTo(Tuple tuple, boolean freshId) {
        Tuple previous;
        boolean validated;
        probeIds.remove(tuple); // from now on Kwik's own current ID serves this path
        synchronized (this) {
            previous = activeTuple;
            if (freshId && !previous.equals(tuple)) {
                // Written before the new address, which the sender reads first: a packet Kwik built with the current
                // ID and sent after this move still goes to the path that ID belongs to (RFC 9000 9.5).
                leftIdAndPath = new LeftId(connection.getDestinationConnectionId().clone(), previous);
            }
            if (!previous.equals(tuple) && tuple.onlyPortsDifferFrom(previous) && reboundAt == null) {
                reboundAt = java.time.Instant.now(); // the first of several rebindings in a row counts
                congestionAtRebind = KwikCongestion.congestionState(connection); // W23
            }
            validated = manager.isValidated(tuple);
            // The interop runner's rule, and the spirit of RFC 9000 9.3: the first packet on a new path is the
            // challenge; what Kwik sends meanwhile waits. The flags are written before the address: the sender's
            // lock-free fast path reads the address first, so if it sees the new address it also sees the flags.
            // A path the client probed before moving there had its challenge already (the manager keeps that
            // validation rather than start another): nothing else would clear the flag then.
            activeValidated = validated;
            challengePendingOnActive = !validated && !manager.challengeLeftOn(tuple);
            holding = !validated || !held.isEmpty();
            activeTuple = tuple;
            activePath = tuple;
        }
        if (!previous.equals(tuple)) {
            observers.forEach(o -> o.stateChanged(null, MigrationState.MIGRATION_STARTED, tuple, MigrationCause.PEER_MOVED));
        }
    }

    /** Queues a path frame as a probe for {@code tuple}, padded as far as that path's budget allows when it leaves. */
    private void sendPathFrame(int type, byte[] data, Tuple tuple) {
        RoutedProbeFrame frame = RoutedProbeFrame.sizedWhenSent(type, data,
                connection.getDestinationConnectionId().length, () -> {
                    synchronized (this) {
                        return manager.remainingBudget(tuple);
                    }
                }, tuple);
        if (!tuple.equals(activePath)) {
            // Not the active path: Kwik would use the active path's client ID there (RFC 9000 9.5 forbids that). A
            // path the client probed with a new ID gets an ID of its own; the path just left keeps the one it had.
            LeftId left = leftIdAndPath;
            byte[] pathId = left != null && left.path().equals(tuple) ? left.id() : probeIds.get(tuple);
            if (pathId != null) {
                frame = frame.resealedWith(pathId);
            }
        }
        if (type == RoutedProbeFrame.PATH_CHALLENGE) {
            RoutedProbeFrame departing = frame;
            int peerIdLength = connection.getDestinationConnectionId().length;
            departing.onDeparture(left -> {
                boolean fullSize = departing.fillsMinimumDatagram(peerIdLength); // sized by now (see sizedWhenSent)
                synchronized (this) {
                    manager.challengeLeft(left, data, fullSize);
                }
            });
        }
        KwikRecovery.sendProbe(connection, frame);
    }

    // ---- sender thread -----------------------------------------------------------------------------------------

    /** Sends a datagram Kwik addressed to the first client address: on the right path, within its budget. */
    void send(DatagramPacket packet) throws IOException {
        RoutedProbeFrame probe = RoutedProbeFrame.takeRoute();
        Tuple routed = probe == null ? null : probe.path();
        if (probe != null) {
            detachSent = routed != null && !probedPaths.contains(routed);
            if (detachSent && SENDING.get() != this) {
                SENDING.set(this); // for the logger hook: see takeProbeToDetach
            }
        }
        if (probe != null && probe.resealWith() != null) {
            ProbeResealer.Resealed resealed = resealer.reseal(packet.getData(), packet.getOffset(), packet.getLength(),
                    connection.getDestinationConnectionId().length, probe,
                    Math.min(RoutedProbeFrame.MIN_PROBE_DATAGRAM, packet.getLength()));
            if (resealed != null) {
                packet.setData(resealed.datagram());
                lastResealed = resealed.packet();
            }
        }
        Tuple to = activePath; // read before the flags; see moveTo
        LeftId left = leftIdAndPath;
        if (routed == null && left != null && carriesId(packet, left.id())) {
            // Built before the switch to a fresh client ID: it may go only where that ID was used (RFC 9000 9.5). That
            // path was validated; if it is gone, the packet is lost and sent again with the new ID.
            Tuple leftPath = left.path();
            packet.setSocketAddress(leftPath.remote());
            if (packetObserver != null) {
                lastSentOn = leftPath;
            }
            socket.sendOut(packet, leftPath.local());
            return;
        }
        if (packetObserver != null) {
            if (SENDING.get() != this) {
                SENDING.set(this);
            }
            lastSentOn = routed != null ? routed : to;
        }
        if (routed == null && !holding && activeValidated) {
            if (to != firstPath) {
                packet.setSocketAddress(to.remote());
            }
            if (firstSends != null) {
                recordFirstSend(to.remote(), null);
            }
            socket.sendOut(packet, to.local());
            return;
        }
        RoutedProbeFrame retry = null;
        synchronized (this) {
            if (routed != null) {
                if (manager.canSend(routed, packet.getLength())) {
                    packet.setSocketAddress(routed.remote());
                    recordFirstSend(routed.remote(), probe);
                    socket.sendOut(packet, routed.local());
                    if (routed.equals(activePath)) {
                        challengePendingOnActive = false;
                    }
                } else {
                    // Kwik put more in the probe's packet (a large ACK frame) than the padding left room for. Try
                    // again at once without padding (RFC 9000 8.2.1 allows that when the budget is short) rather
                    // than wait for the validation's retransmission timer: everything for this path waits on it
                    // (W19).
                    probesDropped++;
                    retry = probe.unpadded();
                    if (retry != null && probe.isChallenge()) {
                        byte[] data = probe.data();
                        retry.onDeparture(departed -> {
                            synchronized (this) {
                                manager.challengeLeft(departed, data, false); // small: 8.2.1's second validation follows
                            }
                        });
                    }
                    lastSentOn = null; // it never left: the trace shows the retry instead
                }
            } else {
                // The move may have happened since the fast path read the address: the trace names the path the
                // datagram goes to now, or will go to when released from the hold.
                lastSentOn = activeTuple;
                if (!challengePendingOnActive && held.isEmpty() && manager.canSend(activeTuple, packet.getLength())) {
                    packet.setSocketAddress(activeTuple.remote());
                    recordFirstSend(activeTuple.remote(), null);
                    socket.sendOut(packet, activeTuple.local());
                } else {
                    hold(packet);
                }
            }
        }
        if (retry != null) {
            KwikRecovery.sendProbe(connection, retry);
        }
        if (routed != null) {
            releaseHeld();
        }
    }

    /** Whether the datagram is a short-header packet whose destination ID is {@code id}. */
    private static boolean carriesId(DatagramPacket packet, byte[] id) {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        if (packet.getLength() <= id.length || (data[offset] & 0x80) != 0) {
            return false;
        }
        for (int i = 0; i < id.length; i++) {
            if (data[offset + 1 + i] != id[i]) {
                return false;
            }
        }
        return true;
    }

    private void hold(DatagramPacket packet) {
        if (held.size() >= MAX_HELD_DATAGRAMS) {
            held.removeFirst();
            heldDropped++;
        }
        held.addLast(Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength()));
        holding = true;
    }

    /** Sends held datagrams to the active path as far as its budget allows now. */
    private void releaseHeld() {
        synchronized (this) {
            while (!held.isEmpty() && !challengePendingOnActive
                    && manager.canSend(activeTuple, held.peekFirst().length)) {
                byte[] datagram = held.removeFirst();
                DatagramPacket packet = new DatagramPacket(datagram, datagram.length, activeTuple.remote());
                LeftId left = leftIdAndPath;
                Tuple to = left != null && carriesId(packet, left.id()) ? left.path() : activeTuple;
                recordFirstSend(to.remote(), null);
                try {
                    packet.setSocketAddress(to.remote());
                    socket.sendOut(packet, to.local());
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "cannot send to " + activeTuple + ": " + e);
                }
            }
            holding = !held.isEmpty() || !activeValidated;
        }
    }

    /**
     * Test hook: from now on, remembers for each client address what the first datagram sent there was, to check
     * the QUIC interop runner's rule that the first packet on a new path carries PATH_CHALLENGE. Bounded.
     */
    void recordFirstSends() {
        firstSends = new ConcurrentHashMap<>();
    }

    /** Per client address: "PATH_CHALLENGE", "PATH_RESPONSE" or "other", for the first datagram sent there. */
    java.util.Map<InetSocketAddress, String> firstSends() {
        java.util.Map<InetSocketAddress, String> record = firstSends;
        return record == null ? java.util.Map.of() : java.util.Map.copyOf(record);
    }

    private void recordFirstSend(InetSocketAddress to, RoutedProbeFrame probe) {
        java.util.Map<InetSocketAddress, String> record = firstSends;
        if (record != null && record.size() < 10_000) {
            record.putIfAbsent(to, probe == null ? "other" : probe.isChallenge() ? "PATH_CHALLENGE" : "PATH_RESPONSE");
        }
    }

    /** The driver's state, for stall reports. */
    synchronized String describe() {
        return "server path: active " + activeTuple.remote() + (activeValidated ? " (validated)" : " (unvalidated, budget "
                + manager.remainingBudget(activeTuple) + ")") + ", challenge pending " + challengePendingOnActive
                + ", held " + held.size() + ", held dropped " + heldDropped + ", probes dropped " + probesDropped
                + ", paths " + manager.trackedPaths();
    }

    synchronized int trackedPaths() {
        return manager.trackedPaths();
    }
}
