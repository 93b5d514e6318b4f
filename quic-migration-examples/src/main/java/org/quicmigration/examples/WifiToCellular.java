package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationServer;

/**
 * Wi-Fi to cellular, for real: a client on 127.0.0.2 ("home Wi-Fi") downloads from a server on 127.0.0.1, moves
 * to 127.0.0.3 ("cellular") in the middle of the connection, and keeps downloading on the same connection. Prints
 * each step with the real PATH_CHALLENGE data, connection IDs and timings; exits 1 if any byte differs or the
 * connection did not move.
 *
 * <pre>./run-example WifiToCellular</pre>
 */
public final class WifiToCellular {

    private static final String PROTOCOL = "wifi-to-cellular";
    private static final int CHUNK = 2 * 1024 * 1024;

    private WifiToCellular() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress wifi = InetAddress.getByName("127.0.0.2");
        InetAddress cellular = InetAddress.getByName("127.0.0.3");
        long start = System.nanoTime();
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .acceptClientMigration(true)
                .onConnection(WifiToCellular::serveChunks)
                .start()) {
            MigratingClient client = MigratingClient.builder()
                    .server(server.localAddress())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .localAddress(new InetSocketAddress(wifi, 0))
                    .build();
            try (MigratingConnection connection = client.connect()) {
                print(start, "connected on Wi-Fi        " + connection.path());
                print(start, "destination connection ID " + connection.destinationConnectionId());
                connection.addMigrationListener(event -> print(start, describe(event)));

                boolean intact = download(connection, "chunk 1 on Wi-Fi", start);

                Examples.awaitSpareConnectionId(connection);
                print(start, "network change: moving to cellular (" + cellular.getHostAddress() + ")");
                MigrationResult result = Examples.migrate(connection, new InetSocketAddress(cellular, 0));
                print(start, String.format("migrated in %.1f ms, path validated in %.1f ms (round trip of PATH_CHALLENGE)",
                        millis(result.total()), millis(result.validationRoundTrip())));
                print(start, "destination connection ID " + result.oldDestinationId() + " -> " + result.newDestinationId()
                        + " (a new ID on a new path: RFC 9000 9.5)");

                intact &= download(connection, "chunk 2 on cellular", start);
                boolean moved = connection.localAddress().getAddress().equals(cellular);
                print(start, "same connection, now on  " + connection.path());
                if (!intact || !moved) {
                    System.out.println("FAILED: " + (!intact ? "data differed" : "the connection did not move"));
                    System.exit(1);
                }
                System.out.println("OK: one connection, two networks, every byte verified");
            }
        }
    }

    /** Asks the server for one chunk and checks it against the digest the server sends first. */
    private static boolean download(MigratingConnection connection, String label, long start) throws Exception {
        BidirectionalStream stream = connection.openStream();
        stream.getOutputStream().close();
        InputStream in = stream.getInputStream();
        byte[] expected = in.readNBytes(32);
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[64 * 1024];
        long bytes = 0;
        long begin = System.nanoTime();
        int n;
        while ((n = in.read(buffer)) >= 0) {
            digest.update(buffer, 0, n);
            bytes += n;
        }
        boolean ok = MessageDigest.isEqual(expected, digest.digest());
        print(start, String.format("%s: %,d bytes in %.1f ms, sha-256 %s", label, bytes,
                (System.nanoTime() - begin) / 1e6, ok ? "verified" : "MISMATCH"));
        return ok;
    }

    /** Each stream: send the SHA-256 of a fresh random chunk, then the chunk. */
    private static void serveChunks(MigratingConnection connection) {
        Random random = new Random();
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                byte[] chunk = new byte[CHUNK];
                random.nextBytes(chunk);
                try (OutputStream out = stream.getOutputStream()) {
                    out.write(MessageDigest.getInstance("SHA-256").digest(chunk));
                    out.write(chunk);
                }
            }
        } catch (Exception e) {
            // the client is done
        }
    }

    private static String describe(MigrationEvent event) {
        if (event instanceof MigrationEvent.PathValidationStarted started) {
            return "PATH_CHALLENGE sent       on " + started.path() + " data " + started.challengeData();
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("PATH_RESPONSE matched     on %s after %.1f ms", validated.path(), millis(validated.roundTrip()));
        }
        if (event instanceof MigrationEvent.PeerConnectionIdChanged changed) {
            return "destination ID changed    " + changed.oldId() + " -> " + changed.newId();
        }
        return event.getClass().getSimpleName() + " " + event.path();
    }

    private static void print(long start, String line) {
        System.out.printf("%8.1f ms  %s%n", (System.nanoTime() - start) / 1e6, line);
    }

    private static double millis(Duration duration) {
        return duration.toNanos() / 1e6;
    }
}
