package org.quicmigration.examples;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;

/**
 * NAT rebinding: the client's address changes under its feet. A client behind an emulated NAT (25 ms each way)
 * downloads 4 MiB; halfway, the NAT forgets its binding and gives the client a new port, as home routers and
 * carrier NATs do after an idle period or a reboot. The client does nothing: it does not know. The server sees the
 * same connection arrive from a new port, validates the new address (RFC 9000 9.3) and the old one too (9.3.3,
 * in case the new one is an attacker relaying packets), and follows; the server's log shows it. Exits 1 if the download differs or the server did not follow.
 *
 * <pre>./run-example NatRebinding</pre>
 */
public final class NatRebinding {

    private static final String PROTOCOL = "nat-rebinding";
    private static final int SIZE = 4 << 20;

    private NatRebinding() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        boolean intact;
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .migrationListener(event -> {
                    serverEvents.add(event);
                    print(start, "server: " + describe(event));
                })
                .onConnection(Examples.digestedDownload(SIZE, 7))
                .start();
             NetworkEmulator nat = NetworkEmulator.builder(server.localAddress()).delay(Duration.ofMillis(25)).start();
             MigratingConnection connection = MigratingClient.builder()
                     .server(nat.address())
                     .serverName("localhost")
                     .applicationProtocol(PROTOCOL)
                     .pinnedCertificate(server.certificate().certificate())
                     .build().connect()) {
            print(start, "client: connected from " + connection.localAddress() + " through the NAT");
            Examples.Downloaded download = Examples.downloadDigested(connection, SIZE, () -> {
                print(start, "NAT:    forgets the binding halfway; the client's next packet leaves from a new port");
                nat.rebindAll();
            });
            intact = download.intact();
            print(start, String.format("client: %,d bytes, sha-256 %s; its local address never changed: %s",
                    download.bytes(), intact ? "verified" : "MISMATCH", connection.localAddress()));
        }
        boolean followed = serverEvents.stream().anyMatch(event -> event instanceof MigrationEvent.MigrationCompleted);
        if (!intact || !followed) {
            System.out.println("FAILED: " + (!intact ? "the download differed" : "the server did not follow the new port"));
            System.exit(1);
        }
        System.out.println("OK: the NAT moved the client, the server followed, the download went on");
    }

    private static String describe(MigrationEvent event) {
        if (event instanceof MigrationEvent.MigrationStarted started) {
            return "the connection's packets now come from " + started.path().remote() + "; validating that address";
        }
        if (event instanceof MigrationEvent.PathValidationStarted validation) {
            return "PATH_CHALLENGE " + validation.challengeData() + " to " + validation.path().remote();
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("%s answered in %.1f ms", validated.path().remote(), validated.roundTrip().toNanos() / 1e6);
        }
        if (event instanceof MigrationEvent.MigrationCompleted completed) {
            return "following the client at " + completed.path().remote()
                    + " (only the port changed: congestion state kept, RFC 9000 9.4)";
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
