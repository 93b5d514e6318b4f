package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
import org.quicmigration.core.migration.ServerAction;
import org.quicmigration.core.migration.ServerDatagram;
import org.quicmigration.core.migration.ServerMigrator;
import org.quicmigration.core.migration.ServerRouting;

/**
 * Internal: runs one server connection's {@link ServerMigrator} against Kwik's server (RFC 9000 9.3), which knows one
 * address per client (W17, docs/kwik-workarounds.md#w17). The core decides; this class only feeds it and performs
 * what it returns. Three Kwik threads meet here, and each either enters the core under this object's lock (which
 * serialises every call into it) or reads the immutable {@link ServerRouting} it last published:
 * <ul>
 * <li>Kwik's server receive thread tags each datagram with its true source ({@link #tagFor}, {@link ServerSourceTags});</li>
 * <li>the connection's packet thread reports each new authenticated 1-RTT packet ({@link #onPacket}); a routine
 *     one (the validated active path, the usual ID, no path frames) is recognised from the routing alone;</li>
 * <li>the connection's sender thread hands each datagram to {@link ServerPathSender#send}, which sends it where the
 *     routing says, or asks the core when the path is not validated or the datagram is a path frame.</li>
 * </ul>
 * Timers run on {@link BindingThreads#SCHEDULER}. Kwik is never called while the lock is held.
 */
final class ServerMigrationDriver {

    private static final System.Logger LOG = System.getLogger(ServerMigrationDriver.class.getName());

    private final ServerConnectionImpl connection;
    private final InetSocketAddress first;
    private final Tuple firstPath;
    private final ServerSourceTags tags;
    /** Guarded by this; every call into it holds the lock, and none calls Kwik while holding it. */
    private final ServerMigrator core;
    private final ServerPathSender sender;
    private final ServerObservers observers = new ServerObservers();

    // Packet thread only.
    private volatile boolean restoreIssuedIdLimit;
    private boolean sawTag;
    private long largestPacketNumber = -1;
    /** When the connection moved to a new port of the client's address, and congestion control then (W23). */
    private Instant reboundAt;
    private KwikCongestion.CongestionSnapshot congestionAtRebind;

    // Guarded by this.
    private ScheduledFuture<?> timer;
    private volatile boolean stopped;
    private volatile DeclaredLosses declaredLosses;

    ServerMigrationDriver(ServerConnectionImpl connection, ServerPathSocket socket, InetSocketAddress local,
                          InetSocketAddress first, ServerSettings settings, RandomGenerator random) {
        this.connection = connection;
        this.first = first;
        this.firstPath = new Tuple(local, first);
        this.tags = new ServerSourceTags(local, first, Math.max(4, settings.maxPathsPerConnection() * 2));
        this.core = new ServerMigrator(firstPath, settings.amplificationFactor(), settings.maxPathsPerConnection(),
                Duration.ofMillis(25), settings.pathValidationTimeout(), settings.pathMemory(), random);
        this.sender = new ServerPathSender(this, connection, socket, firstPath, core.routing());
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
        sender.packetObserver(observer);
    }

    InetSocketAddress firstAddress() {
        return first;
    }

    /** The client address the connection sends to now. */
    InetSocketAddress currentRemote() {
        return sender.routing().active().remote();
    }

    /** The server address the connection sends from now: the main one, or a preferred one the client moved to. */
    InetSocketAddress currentLocal() {
        return sender.routing().active().local();
    }

    void stop() {
        stopped = true;
        synchronized (this) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        sender.stop();
    }

    /** Receive thread: see {@link ServerSourceTags#tagFor}. */
    InetAddress tagFor(InetSocketAddress to, InetSocketAddress source) {
        return tags.tagFor(to, source);
    }

    /** Sender thread: see {@link ServerPathSender#send}. */
    void send(DatagramPacket packet) throws IOException {
        sender.send(packet);
    }

    // ---- packet thread -----------------------------------------------------------------------------------------

    /**
     * A new authenticated 1-RTT packet, before Kwik processes its frames; {@code received} (when the datagram arrived)
     * is given when the packet is to be traced, which happens here, before a PATH_CHALLENGE is taken out of it.
     *
     * @return false to drop it (its source can no longer be known)
     */
    boolean onPacket(QuicPacket packet, InetAddress presentedAddress, long nowNanos, Instant received) {
        if (restoreIssuedIdLimit) {
            restoreIssuedIdLimit = false;
            KwikConnectionIds.restoreIssuedIdLimit(connection);
        }
        Tuple path = tags.pathOf(presentedAddress);
        if (path == null) {
            if (sawTag) {
                return false;
            }
            path = firstPath; // received before anything was tagged: from the first address, as Kwik checked
        } else {
            sawTag = true;
        }
        sender.traceReceived(packet, received, path);
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
        if (!pathFrames && sender.routing().isRoutine(path, destinationId)) {
            return true; // the common case: nothing for the core to decide
        }
        List<byte[]> challenges = new ArrayList<>(1);
        List<byte[]> responses = new ArrayList<>(1);
        boolean answer = pathFrames && takeOutChallenges(frames, challenges, responses);
        ServerDatagram datagram = new ServerDatagram(nowNanos, path, packet.getSize(), nonProbing, highest,
                ConnectionId.of(destinationId), challenges, answer, responses,
                ConnectionId.of(connection.getDestinationConnectionId()),
                challenges.isEmpty() ? null : nextClientId(), Duration.ofMillis(Math.max(1, KwikRecovery.ptoMillis(connection))));
        List<ServerAction> actions;
        synchronized (this) {
            actions = core.onDatagram(datagram);
            sender.publish();
        }
        perform(actions);
        releaseHeldAndSchedule();
        return true;
    }

    /**
     * Collects the path frames' data. RFC 9000 8.2.2: "An endpoint MUST ... send a PATH_RESPONSE frame on the network
     * path where the PATH_CHALLENGE frame was received." Kwik would answer on the active path, and only when
     * congestion control lets it: a client that moved away from a dead path still counts the bytes it lost there as
     * in flight, so Kwik's answer waited until the client gave up. So each challenge is taken out of the packet
     * before Kwik sees it, and the core answers it (W19, docs/kwik-workarounds.md#w19).
     *
     * @return false if Kwik's frame list cannot be changed: Kwik's answer stands then (a response on any path still
     *         validates the peer's path, 8.2.3)
     */
    private static boolean takeOutChallenges(List<QuicFrame> frames, List<byte[]> challenges, List<byte[]> responses) {
        boolean takenOut = true;
        for (int i = 0, n = frames.size(); i < n; i++) {
            QuicFrame frame = frames.get(i);
            if (frame instanceof PathResponseFrame response) {
                responses.add(response.getData());
            } else if (frame instanceof PathChallengeFrame challenge) {
                challenges.add(challenge.getData());
                if (takenOut) {
                    try {
                        // Replaced rather than removed: Kwik closes the connection on a packet left with no frames
                        // (PROTOCOL_VIOLATION), which an unpadded challenge would be.
                        frames.set(i, new Padding(1));
                    } catch (UnsupportedOperationException e) {
                        takenOut = false;
                    }
                }
            }
        }
        return takenOut;
    }

    /** The client ID Kwik moves to next ({@link KwikConnectionIds#serverPeekNextPeerId}), or null. */
    private ConnectionId nextClientId() {
        byte[] next = KwikConnectionIds.serverPeekNextPeerId(connection);
        return next == null ? null : ConnectionId.of(next);
    }

    // ---- timers ------------------------------------------------------------------------------------------------

    /** After the core's actions: what they let go of the held datagrams, and the core's next timer. */
    private void releaseHeldAndSchedule() {
        synchronized (this) {
            sender.releaseHeld();
            long next = core.nextTimerNanos();
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
            List<ServerAction> actions;
            synchronized (this) {
                actions = core.onTimer(System.nanoTime());
                sender.publish();
            }
            perform(actions);
            releaseHeldAndSchedule();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "server path timer failed for " + first, e);
        }
    }

    // ---- sender thread, for the core ------------------------------------------------------------------------------

    /** Sender thread: see {@link ServerMigrator#mayProbe}. Called with this object's lock held. */
    boolean mayProbe(Tuple tuple, int bytes) {
        return core.mayProbe(tuple, bytes);
    }

    /** Sender thread: see {@link ServerMigrator#mayPass}. Called with this object's lock held. */
    boolean mayPass(int bytes) {
        return core.mayPass(bytes);
    }

    synchronized ServerRouting routingNow() {
        return core.routing();
    }

    // ---- actions -----------------------------------------------------------------------------------------------

    private void perform(List<ServerAction> actions) {
        for (ServerAction action : actions) {
            perform(action);
        }
    }

    private void perform(ServerAction action) {
        if (action instanceof ServerAction.SendPathFrame frame) {
            sendPathFrame(frame);
        } else if (action instanceof ServerAction.ResetRecovery) {
            KwikCongestion.resetRecovery(connection, declaredLosses);
        } else if (action instanceof ServerAction.UseNextClientId next) {
            useNextClientId(next.tuple());
        } else if (action instanceof ServerAction.RetireClientId retire) {
            KwikConnectionIds.serverRetirePeerId(connection, retire.sequence());
        } else if (action instanceof ServerAction.SnapshotCongestion) {
            reboundAt = Instant.now();
            congestionAtRebind = KwikCongestion.congestionState(connection); // W23
        } else if (action instanceof ServerAction.RestoreCongestion && reboundAt != null) {
            // W23 and W33, docs/kwik-workarounds.md#w23
            KwikCongestion.resendSentBefore(connection, reboundAt, congestionAtRebind, declaredLosses);
            reboundAt = null;
            congestionAtRebind = null;
        } else if (action instanceof ServerAction.SeedRtt seed) {
            KwikCongestion.seedRttFromValidation(connection, seed.roundTripNanos()); // W22
        } else if (action instanceof ServerAction.StartRecoveryPeriod) {
            KwikCongestion.startRecoveryPeriod(connection);
        } else {
            observers.report(action);
        }
    }

    private void useNextClientId(Tuple tuple) {
        KwikConnectionIds.NextPeerId ids = KwikConnectionIds.serverUseNextPeerId(connection);
        List<ServerAction> more = List.of();
        synchronized (this) {
            if (ids == null) {
                core.onNoSpareClientId();
            } else {
                more = core.onClientIdSwitched(tuple, ids.leftSequence(), ConnectionId.of(ids.left()),
                        ConnectionId.of(ids.taken()));
            }
            sender.publish();
        }
        if (ids == null) {
            LOG.log(System.Logger.Level.WARNING, "client " + tuple.remote()
                    + " moved but left no unused connection ID; the old one stays in use");
        }
        perform(more);
    }

    /** Queues a path frame as a probe for its path, padded as far as that path's budget allows when it leaves. */
    private void sendPathFrame(ServerAction.SendPathFrame action) {
        Tuple tuple = action.tuple();
        boolean challenge = action.frame() == ServerAction.PathFrame.CHALLENGE;
        int peerIdLength = connection.getDestinationConnectionId().length;
        RoutedProbeFrame frame = RoutedProbeFrame.sizedWhenSent(
                challenge ? RoutedProbeFrame.PATH_CHALLENGE : RoutedProbeFrame.PATH_RESPONSE, action.data(),
                peerIdLength, () -> {
                    synchronized (this) {
                        return core.remainingBudget(tuple);
                    }
                }, tuple).leavingRecovery(action.leavesRecovery());
        if (action.sealWith() != null) {
            frame = frame.resealedWith(action.sealWith().bytes());
        }
        if (challenge) {
            RoutedProbeFrame departing = frame;
            // Sized by the time it departs (see sizedWhenSent).
            reportDeparture(departing, () -> departing.fillsMinimumDatagram(peerIdLength));
        }
        KwikRecovery.sendProbe(connection, frame);
    }

    /** Sends a probe Kwik did not put in its packet for want of budget, as a new probe (see {@link ServerPathSender}). */
    void resend(RoutedProbeFrame probe) {
        if (probe.isChallenge()) {
            reportDeparture(probe, () -> false); // small: 8.2.1's second validation follows
        }
        KwikRecovery.sendProbe(connection, probe);
    }

    /** Tells the core when the challenge {@code frame} leaves, and whether its datagram had 1200 bytes. */
    private void reportDeparture(RoutedProbeFrame frame, java.util.function.BooleanSupplier fullSize) {
        byte[] data = frame.data();
        frame.onDeparture(left -> {
            boolean full = fullSize.getAsBoolean();
            synchronized (this) {
                core.onChallengeLeft(left, data, full);
            }
        });
    }

    void recordFirstSends() {
        sender.recordFirstSends();
    }

    java.util.Map<InetSocketAddress, String> firstSends() {
        return sender.firstSends();
    }

    /** The driver's state, for stall reports. */
    synchronized String describe() {
        return "server path: " + core.describe() + ", " + sender.describeHeld();
    }

    synchronized int trackedPaths() {
        return core.trackedPaths();
    }
}
