package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationServer;
import org.quicmigration.PacketEvent;

/**
 * Connection IDs, explained with real ones. A client on 127.0.0.2 connects, lists the connection IDs each side
 * issued (sequence number, hex, length, stateless reset token) and which one each direction uses, moves to
 * 127.0.0.3, and shows what changed. It corrects a common myth: the connection survives the move, but the
 * connection IDs on the wire change on purpose, in both directions (RFC 9000 9.5), so an observer of both networks
 * cannot link the two paths by ID. Everything printed comes from the packets themselves, through the library's
 * packet listener. Exits 1 if the IDs did not change or the data did not survive.
 *
 * <pre>./run-example ConnectionIds</pre>
 */
public final class ConnectionIds {

    private static final String PROTOCOL = "connection-ids";

    private ConnectionIds() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress wifi = InetAddress.getByName("127.0.0.2");
        InetAddress cellular = InetAddress.getByName("127.0.0.3");
        List<PacketEvent> packets = new CopyOnWriteArrayList<>();
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(Examples::echoEveryStream)
                .start();
             MigratingConnection connection = MigratingClient.builder()
                     .server(server.localAddress())
                     .serverName("localhost")
                     .applicationProtocol(PROTOCOL)
                     .pinnedCertificate(server.certificate().certificate())
                     .localAddress(new InetSocketAddress(wifi, 0))
                     .packetListener(packets::add)
                     .build().connect()) {
            boolean intact = echo(connection, 1);
            Examples.awaitSpareConnectionId(connection);
            await(packets, p -> p.direction() == PacketEvent.Direction.RECEIVED && p.frame("new_connection_id").isPresent());

            System.out.println("== on Wi-Fi, " + connection.path());
            String clientToServerBefore = connection.destinationConnectionId();
            String serverToClientBefore = lastReceived(packets).destinationConnectionId();
            printIssued("the server issued to the client (the client puts one in its packets' DCID)",
                    issued(packets, PacketEvent.Direction.RECEIVED, firstOneRtt(packets, PacketEvent.Direction.SENT),
                            "in the stateless_reset_token transport parameter"));
            printIssued("the client issued to the server (the server puts one in its packets' DCID)",
                    issued(packets, PacketEvent.Direction.SENT, firstOneRtt(packets, PacketEvent.Direction.RECEIVED),
                            "none (a client cannot send one for its handshake ID, RFC 9000 18.2)"));
            System.out.println("in use: client -> server DCID " + clientToServerBefore
                    + ", server -> client DCID " + serverToClientBefore);

            System.out.println();
            System.out.println("== the device moves to cellular (" + cellular.getHostAddress() + ")");
            MigrationResult result = Examples.migrate(connection, new InetSocketAddress(cellular, 0));
            intact &= echo(connection, 2);
            await(packets, p -> p.direction() == PacketEvent.Direction.RECEIVED
                    && p.path().local().getAddress().equals(cellular) && !p.destinationConnectionId().equals(serverToClientBefore));
            await(packets, p -> p.direction() == PacketEvent.Direction.SENT && p.frame("retire_connection_id").isPresent());

            String clientToServerAfter = connection.destinationConnectionId();
            String serverToClientAfter = lastReceived(packets).destinationConnectionId();
            System.out.println("same connection, now on " + connection.path() + ", migration validated in "
                    + String.format("%.1f ms", result.validationRoundTrip().toNanos() / 1e6));
            System.out.println("client -> server DCID " + clientToServerBefore + " -> " + clientToServerAfter
                    + " (sequence " + sequenceOf(packets, PacketEvent.Direction.RECEIVED, clientToServerAfter) + ")");
            System.out.println("server -> client DCID " + serverToClientBefore + " -> " + serverToClientAfter
                    + " (sequence " + sequenceOf(packets, PacketEvent.Direction.SENT, serverToClientAfter) + ")");
            for (PacketEvent packet : packets) {
                packet.frames().stream().filter(frame -> frame.type().equals("retire_connection_id")).forEach(frame ->
                        System.out.println((packet.direction() == PacketEvent.Direction.SENT ? "client" : "server")
                                + " retires the ID with sequence " + frame.field("sequence_number")
                                + " (RETIRE_CONNECTION_ID in packet " + packet.packetNumber() + ")"));
            }

            System.out.println();
            boolean changed = !clientToServerAfter.equals(clientToServerBefore) && !serverToClientAfter.equals(serverToClientBefore);
            System.out.println("The myth: \"the connection ID stays the same when a connection migrates\". What happened: the");
            System.out.println("connection stayed (same streams, every byte verified), but the IDs on the wire changed in");
            System.out.println("both directions, so an observer of both networks cannot link the two paths by ID (RFC 9000 9.5).");
            if (!intact || !changed) {
                System.out.println("FAILED: " + (!intact ? "the echo differed" : "a connection ID did not change"));
                System.exit(1);
            }
            System.out.println("OK: one connection, fresh connection IDs on the new path");
        }
    }

    /** Sequence number to NEW_CONNECTION_ID fields, for the IDs issued in packets going {@code direction}. */
    private static Map<Long, PacketEvent.Frame> issued(List<PacketEvent> packets, PacketEvent.Direction direction,
                                                       String sequenceZero, String sequenceZeroToken) {
        Map<Long, PacketEvent.Frame> ids = new TreeMap<>();
        // Sequence 0 is the source connection ID of the handshake (RFC 9000 5.1.1); it has no frame.
        ids.put(0L, new PacketEvent.Frame("handshake", Map.of("connection_id", sequenceZero,
                "stateless_reset_token", sequenceZeroToken)));
        for (PacketEvent packet : packets) {
            if (packet.direction() == direction) {
                packet.frames().stream().filter(frame -> frame.type().equals("new_connection_id"))
                        .forEach(frame -> ids.put((Long) frame.fields().get("sequence_number"), frame));
            }
        }
        return ids;
    }

    private static void printIssued(String title, Map<Long, PacketEvent.Frame> ids) {
        System.out.println("connection IDs " + title + ":");
        ids.forEach((sequence, frame) -> System.out.printf("  seq %d  %-16s  %d bytes  reset token %s%n", sequence,
                frame.field("connection_id"), frame.field("connection_id").length() / 2,
                frame.field("stateless_reset_token")));
    }

    private static String sequenceOf(List<PacketEvent> packets, PacketEvent.Direction issuedIn, String id) {
        for (PacketEvent packet : packets) {
            if (packet.direction() == issuedIn) {
                for (PacketEvent.Frame frame : packet.frames()) {
                    if (frame.type().equals("new_connection_id") && frame.field("connection_id").equals(id)) {
                        return frame.field("sequence_number");
                    }
                }
            }
        }
        return "0";
    }

    private static String firstOneRtt(List<PacketEvent> packets, PacketEvent.Direction direction) {
        return packets.stream().filter(p -> p.direction() == direction && p.packetType().equals("1RTT"))
                .findFirst().map(PacketEvent::destinationConnectionId).orElse("?");
    }

    private static PacketEvent lastReceived(List<PacketEvent> packets) {
        PacketEvent last = null;
        for (PacketEvent packet : packets) {
            if (packet.direction() == PacketEvent.Direction.RECEIVED) {
                last = packet;
            }
        }
        return last;
    }

    /** Waits (at most 5 s) until a packet matching {@code condition} was traced; the listener runs on its own thread. */
    private static void await(List<PacketEvent> packets, Predicate<PacketEvent> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (packets.stream().noneMatch(condition) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** Echoes 2 KB of seeded random bytes on a new stream; true if they came back intact. */
    private static boolean echo(MigratingConnection connection, int seed) throws Exception {
        byte[] data = new byte[2_000];
        new Random(seed).nextBytes(data);
        BidirectionalStream stream = connection.openStream();
        try (OutputStream out = stream.getOutputStream()) {
            out.write(data);
        }
        try (InputStream in = stream.getInputStream()) {
            return MessageDigest.isEqual(data, in.readAllBytes());
        }
    }
}
