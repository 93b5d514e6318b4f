package org.quicmigration.examples;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationException;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationStrategy;

/**
 * The client half of the two-terminal demo: connects to a {@link DemoServer} and reads commands from the
 * terminal:
 * <ul>
 * <li>{@code get <bytes>}: downloads that many bytes and checks them against the server's SHA-256;</li>
 * <li>{@code migrate <address>}: moves the connection to a local address, e.g. {@code migrate 127.0.0.3};</li>
 * <li>{@code probe-migrate <address>}: the same, validating the new path before moving
 *     ({@link MigrationStrategy#VALIDATE_THEN_SWITCH});</li>
 * <li>{@code status}: the path, the connection ID in use and the spare ones;</li>
 * <li>{@code quit} (or end of input).</li>
 * </ul>
 * Exits 1 if a download differed or a command failed.
 *
 * <pre>./run-example DemoClient 127.0.0.1:4433 demo-server.pem 127.0.0.2</pre>
 *
 * Arguments: the server's address, its certificate file, and the local address to start on (default 127.0.0.2).
 */
public final class DemoClient {

    private DemoClient() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.out.println("usage: DemoClient <server address:port> <certificate file> [local address]");
            System.exit(2);
        }
        InetSocketAddress server = parseAddress(args[0]);
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(Path.of(args[1]))));
        InetAddress local = InetAddress.getByName(args.length > 2 ? args[2] : "127.0.0.2");
        boolean ok = true;
        try (MigratingConnection connection = MigratingClient.builder()
                .server(server)
                .serverName("localhost")
                .applicationProtocol(DemoServer.PROTOCOL)
                .pinnedCertificate(certificate)
                .localAddress(new InetSocketAddress(local, 0))
                .build().connect()) {
            System.out.println("connected: " + connection.path() + "; commands: get <bytes>, migrate <address>, probe-migrate <address>, status, quit");
            System.out.println("network-change policy on: the connection also moves by itself when this host loses its"
                    + " network (loopback addresses excepted)");
            connection.addMigrationListener(DemoClient::reportAutomaticMoves);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] words = line.trim().split("\\s+");
                try {
                    switch (words[0]) {
                        case "" -> { }
                        case "get" -> ok &= get(connection, Long.parseLong(words[1].replace("_", "")));
                        case "migrate" -> migrate(connection, InetAddress.getByName(words[1]),
                                MigrationStrategy.SWITCH_THEN_VALIDATE);
                        case "probe-migrate" -> migrate(connection, InetAddress.getByName(words[1]),
                                MigrationStrategy.VALIDATE_THEN_SWITCH);
                        case "status" -> status(connection);
                        case "quit", "exit" -> {
                            finish(ok);
                            return;
                        }
                        default -> System.out.println("unknown command \"" + words[0]
                                + "\"; commands: get <bytes>, migrate <address>, probe-migrate <address>, status, quit");
                    }
                } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
                    System.out.println("usage: get <bytes> | migrate <address> | probe-migrate <address> | status | quit");
                } catch (MigrationException e) {
                    System.out.println("migration failed (" + e.reason() + "): " + e.getMessage());
                    ok = false;
                }
            }
        }
        finish(ok);
    }

    private static void finish(boolean ok) {
        System.out.println(ok ? "bye" : "bye (something failed; see above)");
        System.exit(ok ? 0 : 1);
    }

    private static boolean get(MigratingConnection connection, long size) throws Exception {
        long start = System.nanoTime();
        BidirectionalStream stream = connection.openStream();
        try (DataOutputStream out = new DataOutputStream(stream.getOutputStream())) {
            out.writeLong(size);
        }
        try (InputStream in = stream.getInputStream()) {
            byte[] expected = in.readNBytes(32);
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            long received = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                received += n;
            }
            boolean ok = received == size && MessageDigest.isEqual(expected, digest.digest());
            System.out.printf("got %,d bytes in %.1f ms over %s, sha-256 %s%n", received,
                    (System.nanoTime() - start) / 1e6, connection.path(), ok ? "verified" : "MISMATCH");
            return ok;
        }
    }

    private static void migrate(MigratingConnection connection, InetAddress address, MigrationStrategy strategy)
            throws Exception {
        try {
            MigrationResult result = connection.migrate(new InetSocketAddress(address, 0), strategy)
                    .get(15, TimeUnit.SECONDS);
            System.out.printf("moved to %s in %.1f ms (path validated in %.1f ms); destination connection ID %s -> %s%n",
                    result.newPath().local(), result.total().toNanos() / 1e6,
                    result.validationRoundTrip().toNanos() / 1e6, result.oldDestinationId(), result.newDestinationId());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MigrationException failure) {
                throw failure;
            }
            throw e;
        }
    }

    /** The moves the policy makes without a command, and the path failures behind them. */
    private static void reportAutomaticMoves(org.quicmigration.MigrationEvent event) {
        if (event instanceof org.quicmigration.MigrationEvent.MigrationStarted started
                && started.cause() != org.quicmigration.MigrationCause.APPLICATION) {
            System.out.println("moving by itself to " + started.path() + " (" + started.cause() + ")");
        } else if (event instanceof org.quicmigration.MigrationEvent.PathFailed failed) {
            System.out.println("path failed: " + failed.path() + ": " + failed.reason());
        } else if (event instanceof org.quicmigration.MigrationEvent.NoUsableNetwork none) {
            System.out.println("no usable network; waiting for one (" + none.path() + ")");
        } else if (event instanceof org.quicmigration.MigrationEvent.PathResumed resumed) {
            System.out.println("network back; resumed on " + resumed.path());
        }
    }

    private static void status(MigratingConnection connection) {
        System.out.println("path " + connection.path() + ", destination connection ID "
                + connection.destinationConnectionId() + ", " + connection.spareConnectionIds()
                + " spare connection ID(s) for further moves");
    }

    /** "host:port" to an address ("[v6]:port" for IPv6). */
    static InetSocketAddress parseAddress(String text) throws java.net.UnknownHostException {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected host:port, not " + text);
        }
        String host = text.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(text.substring(colon + 1)));
    }
}
