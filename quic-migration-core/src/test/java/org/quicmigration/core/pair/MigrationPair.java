package org.quicmigration.core.pair;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationAction;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;
import org.quicmigration.core.migration.ServerAction;
import org.quicmigration.core.migration.ServerDatagram;
import org.quicmigration.core.migration.ServerMigrator;
import org.quicmigration.core.migration.ServerPathManager;

/**
 * Test harness: a client's {@link ClientMigrator} and a server's {@link ServerMigrator} over a simulated network, in
 * virtual time, in the spirit of quinn-proto's {@code Pair}. Datagrams carry what the cores care about (a
 * PATH_CHALLENGE, a PATH_RESPONSE, whether they are probing, their size, the destination connection ID of the
 * client's); the network delays them (jitter reorders them), loses them at random or on a dead client address, and
 * passes the client's through a NAT that can rebind. The harness plays the bindings' part the way the Kwik binding
 * does: the client answers every PATH_CHALLENGE on the path it arrived on (RFC 9000 8.2.2) and sends a non-probing
 * PING after a switch; the server's answers are its core's; both report when challenges leave, and the server keeps
 * the client's connection IDs the way the engine does. A whole migration runs in microseconds of real time.
 */
final class MigrationPair {

    static final long MS = 1_000_000L;
    static final InetSocketAddress SERVER = new InetSocketAddress(address("198.18.100.1"), 443);
    static final InetAddress NAT_OUTSIDE = address("198.18.200.1");
    private static final Duration PTO = Duration.ofMillis(60);
    private static final Duration MAX_ACK_DELAY = Duration.ofMillis(25);

    /** A datagram in flight: {@code clientLocal} is the client's side inside the NAT, {@code outside} after it. */
    private record Datagram(boolean toServer, InetSocketAddress clientLocal, InetSocketAddress outside,
                            InetSocketAddress server, byte[] challenge,
                            byte[] response, boolean nonProbing, int bytes, long packetNumber, ConnectionId destinationId,
                            long arrival, long order) {
    }

    private final SplittableRandom random;
    private final PriorityQueue<Datagram> inFlight = new PriorityQueue<>((a, b) -> a.arrival != b.arrival
            ? Long.compare(a.arrival, b.arrival) : Long.compare(a.order, b.order));
    private final Map<InetSocketAddress, InetSocketAddress> natOut = new HashMap<>();
    private final Map<InetSocketAddress, InetSocketAddress> natIn = new HashMap<>();
    private final Set<InetAddress> deadClientAddresses = new HashSet<>();
    private int nextNatPort = 40_000;
    private long order;
    private long nextClientPacketNumber;
    private long highestSeenByServer = -1;
    /** The server's ID the client sends to now. */
    private ConnectionId clientSendsTo = ConnectionId.fromHex("5e0000");
    /** The client's IDs, as the server's engine holds them, and which one it sends with now. */
    private final List<ConnectionId> clientIds = List.of(ConnectionId.fromHex("c000"), ConnectionId.fromHex("c001"),
            ConnectionId.fromHex("c002"), ConnectionId.fromHex("c003"));
    private int clientIdInUse;

    final ClientMigrator client;
    final ServerMigrator server;
    final List<MigrationAction> clientActions = new ArrayList<>();
    final List<ServerAction> serverActions = new ArrayList<>();
    /** The client IDs the server retired, by sequence number. */
    final List<Integer> retiredClientIds = new ArrayList<>();
    final List<MigrationOutcome> outcomes = new ArrayList<>();
    /** The tuple the server sends data to now, as far as its core decided. */
    Tuple serverSendsTo;
    long now;
    long oneWayNanos = 10 * MS;
    /** Up to this much more delay per datagram, at random: datagrams overtake each other. */
    long jitterNanos;
    double lossRate;

    MigrationPair(InetSocketAddress clientLocal, long seed) throws Exception {
        random = new SplittableRandom(seed);
        PeerConnectionIds peerIds = new PeerConnectionIds(4, ConnectionId.fromHex("5e0000"), null);
        Tuple first = new Tuple(clientLocal, SERVER);
        peerIds.bind(first, 0);
        for (long sequence = 1; sequence <= 3; sequence++) {
            peerIds.onNewConnectionId(sequence, ConnectionId.fromHex(String.format("5e%04x", sequence)),
                    StatelessResetToken.random(random), 0);
        }
        client = new ClientMigrator(peerIds, first, MAX_ACK_DELAY, random);
        serverSendsTo = new Tuple(SERVER, outside(clientLocal));
        server = new ServerMigrator(serverSendsTo, 3, 8, MAX_ACK_DELAY, null, ServerPathManager.DEFAULT_MEMORY,
                random.split());
    }

    static InetSocketAddress at(String address, int port) {
        return new InetSocketAddress(address(address), port);
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The client starts a migration to {@code local}. */
    void migrate(InetSocketAddress local, MigrationMode mode) throws Exception {
        migrate(local, client.activeTuple().remote(), mode);
    }

    /** The client starts a migration to {@code local} and the server address {@code server} (a preferred one). */
    void migrate(InetSocketAddress local, InetSocketAddress server, MigrationMode mode) throws Exception {
        clientPerform(client.migrate(now, new Tuple(local, server), mode, true, false, PTO));
    }

    /** The client sends one datagram of application data on its active path. */
    void clientSendsData() {
        send(true, client.activeTuple().local(), client.activeTuple().remote(), null, null, true, 1200, clientSendsTo);
    }

    /** Everything the client sends from {@code address}, and everything sent to it, is lost from now on. */
    void killClientAddress(InetAddress address) {
        deadClientAddresses.add(address);
    }

    /** The NAT gives {@code inside} a new outside port; the old binding is forgotten. */
    void rebind(InetSocketAddress inside) {
        InetSocketAddress old = natOut.remove(inside);
        if (old != null) {
            natIn.remove(old);
        }
        outside(inside);
    }

    /** The client's address after the NAT. */
    InetSocketAddress outside(InetSocketAddress inside) {
        return natOut.computeIfAbsent(inside, key -> {
            InetSocketAddress mapped = new InetSocketAddress(NAT_OUTSIDE, nextNatPort++);
            natIn.put(mapped, key);
            return mapped;
        });
    }

    /** Runs datagram deliveries and both sides' timers until {@code until}, sending data every {@code dataEvery}. */
    void runUntil(long until, long dataEvery) {
        long nextData = dataEvery > 0 ? now + dataEvery : Long.MAX_VALUE;
        while (true) {
            long next = Math.min(Math.min(client.nextTimerNanos(), server.nextTimerNanos()), nextData);
            Datagram arriving = inFlight.peek();
            if (arriving != null && arriving.arrival <= next) {
                next = arriving.arrival;
            }
            if (next > until) {
                now = until;
                return;
            }
            now = Math.max(now, next);
            if (arriving != null && arriving.arrival == next) {
                deliver(inFlight.poll());
            } else if (nextData == next) {
                clientSendsData();
                nextData += dataEvery;
            } else {
                if (client.nextTimerNanos() <= now) {
                    clientPerform(client.onTimer(now));
                }
                if (server.nextTimerNanos() <= now) {
                    serverPerform(server.onTimer(now));
                }
            }
        }
    }

    private void send(boolean toServer, InetSocketAddress clientLocal, InetSocketAddress server, byte[] challenge,
                      byte[] response, boolean nonProbing, int bytes, ConnectionId destinationId) {
        long packetNumber = toServer ? nextClientPacketNumber++ : -1;
        InetSocketAddress outside = toServer ? outside(clientLocal) : null;
        if (!toServer) {
            outside = clientLocal; // the server sends to the address after the NAT
            clientLocal = natIn.get(outside);
        }
        if (clientLocal == null || deadClientAddresses.contains(clientLocal.getAddress())
                || random.nextDouble() < lossRate) {
            return; // no binding, a dead network, or lost on the way
        }
        inFlight.add(new Datagram(toServer, clientLocal, outside, server, challenge, response, nonProbing, bytes,
                packetNumber, destinationId, now + oneWayNanos + (jitterNanos > 0 ? random.nextLong(jitterNanos) : 0), order++));
    }

    private void deliver(Datagram datagram) {
        if (datagram.toServer) {
            Tuple tuple = new Tuple(datagram.server, datagram.outside);
            boolean highest = datagram.packetNumber > highestSeenByServer;
            highestSeenByServer = Math.max(highestSeenByServer, datagram.packetNumber);
            ConnectionId next = clientIdInUse + 1 < clientIds.size() ? clientIds.get(clientIdInUse + 1) : null;
            serverPerform(server.onDatagram(new ServerDatagram(now, tuple, datagram.bytes, datagram.nonProbing, highest,
                    datagram.destinationId, datagram.challenge == null ? List.of() : List.of(datagram.challenge), true,
                    datagram.response == null ? List.of() : List.of(datagram.response), clientIds.get(clientIdInUse),
                    next, PTO)));
        } else {
            if (datagram.challenge != null) {
                // RFC 9000 8.2.2, on the path it arrived on
                send(true, datagram.clientLocal, datagram.server, null, datagram.challenge, false, 1200, clientSendsTo);
            }
            if (datagram.response != null) {
                clientPerform(client.onPathResponse(now, datagram.response));
            }
        }
    }

    private void clientPerform(List<MigrationAction> actions) {
        clientActions.addAll(actions);
        boolean switched = false;
        for (MigrationAction action : actions) {
            if (action instanceof MigrationAction.SendPathChallenge challenge) {
                send(true, challenge.tuple().local(), challenge.tuple().remote(), challenge.data(), null, false, 1200,
                        challenge.peerId() != null ? challenge.peerId() : clientSendsTo);
                client.challengeLeft(now, challenge.data());
            } else if (action instanceof MigrationAction.UsePath use) {
                switched = true;
                if (use.peerId() != null) {
                    clientSendsTo = use.peerId().id();
                }
            } else if (action instanceof MigrationAction.Finished finished) {
                outcomes.add(finished.outcome());
            }
        }
        if (switched) {
            // The binding's PING after a switch: a non-probing packet, so that the server follows (RFC 9000 9.3).
            send(true, client.activeTuple().local(), client.activeTuple().remote(), null, null, true, 60, clientSendsTo);
        }
    }

    private void serverPerform(List<ServerAction> actions) {
        serverActions.addAll(actions);
        for (ServerAction action : actions) {
            if (action instanceof ServerAction.SendPathFrame frame) {
                boolean challenge = frame.frame() == ServerAction.PathFrame.CHALLENGE;
                if (server.mayProbe(frame.tuple(), 1200)) {
                    send(false, frame.tuple().remote(), frame.tuple().local(), challenge ? frame.data() : null,
                            challenge ? null : frame.data(), false, 1200, null);
                    if (challenge) {
                        server.onChallengeLeft(now, frame.data(), true);
                    }
                }
            } else if (action instanceof ServerAction.UseNextClientId next) {
                if (clientIdInUse + 1 < clientIds.size()) {
                    clientIdInUse++;
                    serverPerform(server.onClientIdSwitched(next.tuple(), clientIdInUse - 1,
                            clientIds.get(clientIdInUse - 1), clientIds.get(clientIdInUse)));
                } else {
                    server.onNoSpareClientId();
                }
            } else if (action instanceof ServerAction.RetireClientId retire) {
                retiredClientIds.add(retire.sequence());
            }
        }
        serverSendsTo = server.routing().active();
    }
}
