package org.quicmigration.examples;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;
import org.quicmigration.PacketEvent;

/**
 * A server's preferred address (RFC 9000 9.6). The server takes handshakes on a shared "front door" address
 * (127.0.0.1, standing for an anycast address or a load balancer's) and tells each client, in its transport
 * parameters, to move to its own address (127.0.0.4), with a connection ID meant for that address. The client
 * validates the new server address with PATH_CHALLENGE and moves; the server follows only once it has validated
 * the client on the new path (9.6.2). The application sees one connection throughout, and a 4 MiB download that
 * started at the front door finishes at the preferred address, digest-checked. Exits 1 if the download differs or
 * the connection did not move.
 *
 * <pre>./run-example PreferredAddress</pre>
 */
public final class PreferredAddress {

    private static final String PROTOCOL = "preferred-address";
    private static final int SIZE = 4 << 20;

    private PreferredAddress() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        InetAddress frontDoor = InetAddress.getByName("127.0.0.1");
        InetAddress ownAddress = InetAddress.getByName("127.0.0.4");
        boolean intact;
        boolean moved;
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(frontDoor, 0))
                .preferredAddress(new InetSocketAddress(ownAddress, 0), null)
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .migrationListener(event -> {
                    serverEvents.add(event);
                    print(start, "server: " + describe(event));
                })
                .onConnection(Examples.digestedDownload(SIZE, 11))
                .start()) {
            InetSocketAddress preferred = server.preferredAddresses().get(0);
            print(start, "server: handshakes on " + server.localAddress() + ", offers preferred_address " + preferred);
            try (MigratingConnection connection = MigratingClient.builder()
                    .server(server.localAddress())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .packetListener(packet -> describeIfPathFrame(start, packet))
                    .build().connect()) {
                print(start, "client: connected to " + connection.peerAddress() + " from " + connection.localAddress());
                Examples.Downloaded download = Examples.downloadDigested(connection, SIZE, () ->
                        print(start, "client: halfway through the download, talking to " + connection.peerAddress()));
                intact = download.intact();
                moved = connection.peerAddress().equals(preferred);
                print(start, String.format("client: %,d bytes, sha-256 %s; the connection ends at %s",
                        download.bytes(), intact ? "verified" : "MISMATCH", connection.peerAddress()));
            }
        }
        boolean followed = serverEvents.stream().anyMatch(event -> event instanceof MigrationEvent.MigrationCompleted);
        if (!intact || !moved || !followed) {
            System.out.println("FAILED: " + (!intact ? "the download differed"
                    : !moved ? "the client did not move to the preferred address" : "the server did not follow"));
            System.exit(1);
        }
        System.out.println("OK: handshake at the front door, data from the preferred address, one connection");
    }

    /** The client's side of the move, from its packet trace: the path frames, in and out. */
    private static void describeIfPathFrame(long start, PacketEvent packet) {
        for (String frame : packet.frameTypes()) {
            if (frame.equals("path_challenge") || frame.equals("path_response")) {
                print(start, String.format("client: %s %s %s %s", packet.direction() == PacketEvent.Direction.SENT
                        ? "sends" : "receives", frame.toUpperCase(), packet.direction() == PacketEvent.Direction.SENT
                        ? "to" : "from", packet.path().remote()));
            }
        }
    }

    private static String describe(MigrationEvent event) {
        if (event instanceof MigrationEvent.PathValidationStarted validation) {
            return "client seen on " + validation.path() + ": PATH_CHALLENGE " + validation.challengeData()
                    + " before sending it any data (RFC 9000 9.6.2)";
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("%s answered in %.1f ms", validated.path(), validated.roundTrip().toNanos() / 1e6);
        }
        if (event instanceof MigrationEvent.MigrationCompleted completed) {
            return "now sends from " + completed.path().local() + " to " + completed.path().remote();
        }
        if (event instanceof MigrationEvent.PeerConnectionIdChanged changed) {
            return "destination connection ID " + changed.oldId() + " -> " + changed.newId();
        }
        return event.getClass().getSimpleName() + " " + event.path();
    }

    private static void print(long start, String line) {
        System.out.printf("%8.1f ms  %s%n", (System.nanoTime() - start) / 1e6, line);
    }
}
