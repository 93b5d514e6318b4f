package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;
import org.quicmigration.PacketEvent;

/**
 * Every packet of a migration, as the client saw it: a client on 127.0.0.2 ("Wi-Fi") connects, echoes a little
 * data, moves to 127.0.0.3 ("cellular"), echoes again and closes. Prints each packet (time, direction, source and
 * destination, destination connection ID, packet number, type, size, frames), then a timeline of the migration,
 * both built from the library's packet listener and migration events; writes a qlog file for qvis. Exits 1 if the
 * new path was not validated with a matching PATH_CHALLENGE/PATH_RESPONSE, the echo differed, or no qlog was
 * written.
 *
 * <pre>./run-example PacketTrace [qlog-directory]</pre>
 */
public final class PacketTrace {

    private static final String PROTOCOL = "packet-trace";

    private PacketTrace() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress wifi = InetAddress.getByName("127.0.0.2");
        InetAddress cellular = InetAddress.getByName("127.0.0.3");
        Path qlogDirectory = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("quic-migration-qlog");
        List<PacketEvent> packets = new CopyOnWriteArrayList<>();
        List<MigrationEvent> migration = new CopyOnWriteArrayList<>();
        boolean intact;
        Path qlog;
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(Examples::echoEveryStream)
                .start()) {
            MigratingClient client = MigratingClient.builder()
                    .server(server.localAddress())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .localAddress(new InetSocketAddress(wifi, 0))
                    .packetListener(packets::add)
                    .qlogDirectory(qlogDirectory)
                    .build();
            try (MigratingConnection connection = client.connect()) {
                connection.addMigrationListener(migration::add);
                qlog = connection.qlogFile().orElse(null);
                intact = echo(connection, 1);
                Examples.awaitSpareConnectionId(connection);
                Examples.migrate(connection, new InetSocketAddress(cellular, 0));
                intact &= echo(connection, 2);
            }
            // The listener runs on the library's event thread: wait (at most 5 s) for the CONNECTION_CLOSE we sent.
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (packets.stream().noneMatch(PacketTrace::isOurClose) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }

        List<PacketEvent> trace = new ArrayList<>(packets);
        trace.sort(Comparator.comparing(PacketEvent::time));
        Instant zero = trace.get(0).time();
        System.out.printf("%9s  %-4s %-22s %-22s %-16s %4s %-9s %5s  %s%n", "ms", "dir", "from", "to", "DCID", "pn",
                "type", "bytes", "frames");
        for (PacketEvent packet : trace) {
            boolean sent = packet.direction() == PacketEvent.Direction.SENT;
            InetSocketAddress from = sent ? packet.path().local() : packet.path().remote();
            InetSocketAddress to = sent ? packet.path().remote() : packet.path().local();
            System.out.printf("%9.3f  %-4s %-22s %-22s %-16s %4d %-9s %5d  %s%n", millis(zero, packet.time()),
                    sent ? "->" : "<-", address(from), address(to), packet.destinationConnectionId(),
                    packet.packetNumber(), packet.packetType(), packet.size(), String.join(",", packet.frameTypes()));
        }

        System.out.println();
        System.out.println("timeline");
        List<String[]> timeline = new ArrayList<>();
        timeline.add(line(zero, trace.get(0).time(), "first packet (Initial) on " + trace.get(0).path()));
        trace.stream().filter(p -> p.frameTypes().contains("handshake_done")).findFirst()
                .ifPresent(p -> timeline.add(line(zero, p.time(), "handshake confirmed (HANDSHAKE_DONE received)")));
        for (MigrationEvent event : migration) {
            timeline.add(line(zero, event.time(), describe(event)));
        }
        PacketEvent challenge = first(trace, PacketEvent.Direction.SENT, "path_challenge", cellular);
        PacketEvent response = first(trace, PacketEvent.Direction.RECEIVED, "path_response", cellular);
        if (challenge != null) {
            timeline.add(line(zero, challenge.time(), "PATH_CHALLENGE packet " + challenge.packetNumber() + " leaves "
                    + address(challenge.path().local()) + " with DCID " + challenge.destinationConnectionId()));
        }
        if (response != null) {
            timeline.add(line(zero, response.time(), "PATH_RESPONSE packet " + response.packetNumber() + " arrives on "
                    + address(response.path().local())));
        }
        timeline.sort(Comparator.comparing(entry -> Double.parseDouble(entry[0])));
        for (String[] entry : timeline) {
            System.out.printf("%9s ms  %s%n", entry[0], entry[1]);
        }

        System.out.println();
        boolean validated = challenge != null && response != null && migration.stream()
                .anyMatch(event -> event instanceof MigrationEvent.MigrationCompleted);
        System.out.println(trace.size() + " packets traced; qlog for qvis: " + (qlog == null ? "none" : qlog));
        if (!intact || !validated || qlog == null) {
            System.out.println("FAILED: " + (!intact ? "the echo differed" : !validated
                    ? "the new path was not validated" : "no qlog file"));
            System.exit(1);
        }
        System.out.println("OK: the migration is in the trace, validated by PATH_CHALLENGE and PATH_RESPONSE");
    }

    /** Echoes 3 KB of seeded random bytes on a new stream; true if they came back intact. */
    private static boolean echo(MigratingConnection connection, int seed) throws Exception {
        byte[] data = new byte[3_000];
        new Random(seed).nextBytes(data);
        BidirectionalStream stream = connection.openStream();
        try (OutputStream out = stream.getOutputStream()) {
            out.write(data);
        }
        byte[] back;
        try (InputStream in = stream.getInputStream()) {
            back = in.readAllBytes();
        }
        return MessageDigest.isEqual(MessageDigest.getInstance("SHA-256").digest(data),
                MessageDigest.getInstance("SHA-256").digest(back));
    }

    private static boolean isOurClose(PacketEvent packet) {
        return packet.direction() == PacketEvent.Direction.SENT && packet.frameTypes().contains("connection_close");
    }

    private static PacketEvent first(List<PacketEvent> trace, PacketEvent.Direction direction, String frame,
                                     InetAddress local) {
        return trace.stream().filter(p -> p.direction() == direction && p.frameTypes().contains(frame)
                && p.path().local().getAddress().equals(local)).findFirst().orElse(null);
    }

    private static String describe(MigrationEvent event) {
        if (event instanceof MigrationEvent.PathValidationStarted started) {
            return "validation of " + started.path() + " starts, challenge data " + started.challengeData();
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("path %s validated, round trip %.3f ms", validated.path(),
                    validated.roundTrip().toNanos() / 1e6);
        }
        if (event instanceof MigrationEvent.PeerConnectionIdChanged changed) {
            return "destination connection ID " + changed.oldId() + " -> " + changed.newId() + " (RFC 9000 9.5)";
        }
        if (event instanceof MigrationEvent.MigrationStarted started) {
            return "migration to " + started.path() + " starts";
        }
        if (event instanceof MigrationEvent.MigrationCompleted completed) {
            return "migration to " + completed.path() + " complete";
        }
        return event.getClass().getSimpleName() + " " + event.path();
    }

    private static String[] line(Instant zero, Instant time, String text) {
        return new String[]{String.format(java.util.Locale.ROOT, "%.3f", millis(zero, time)), text};
    }

    private static double millis(Instant zero, Instant time) {
        return Duration.between(zero, time).toNanos() / 1e6;
    }

    private static String address(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
