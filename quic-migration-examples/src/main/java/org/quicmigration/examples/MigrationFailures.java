package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationException;
import org.quicmigration.MigrationServer;

/**
 * When migration does not work out, for real:
 * <ol>
 * <li>the new network is a black hole: the client moves, gets no answer to its PATH_CHALLENGE, and after three
 *     probe timeouts falls back to the old network, where the connection keeps working;</li>
 * <li>the server forbids migration (disable_active_migration): {@code migrate} fails at once, nothing is sent, and
 *     the connection is unharmed.</li>
 * </ol>
 * Exits 1 if either did not happen as described.
 *
 * <pre>./run-example MigrationFailures</pre>
 */
public final class MigrationFailures {

    private static final String PROTOCOL = "migration-failures";

    private MigrationFailures() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress wifi = InetAddress.getByName("127.0.0.2");
        InetAddress cellular = InetAddress.getByName("127.0.0.3");
        boolean ok = blackHoledNewNetwork(wifi, cellular) & serverForbidsMigration(wifi, cellular);
        if (!ok) {
            System.out.println("FAILED: a scenario did not behave as described");
            System.exit(1);
        }
        System.out.println("OK: both failures were clean, typed, and left the connection working");
    }

    private static boolean blackHoledNewNetwork(InetAddress wifi, InetAddress cellular) throws Exception {
        System.out.println("1. the new network is a black hole");
        try (MigrationServer server = server(true);
             NetworkEmulator network = NetworkEmulator.builder(server.localAddress()).start();
             MigratingConnection connection = client(server, network.address(), wifi).connect()) {
            System.out.println("   connected on " + connection.path());
            Examples.awaitSpareConnectionId(connection);
            network.outage(cellular, true);
            long start = System.nanoTime();
            try {
                Examples.migrate(connection, new InetSocketAddress(cellular, 0));
                System.out.println("   unexpected: the migration succeeded");
                return false;
            } catch (ExecutionException e) {
                MigrationException failure = (MigrationException) e.getCause();
                System.out.printf("   after %.0f ms: %s%n", (System.nanoTime() - start) / 1e6, failure.reason());
                System.out.println("   " + failure.getMessage());
                System.out.println("   fell back to " + failure.fallbackPath().orElse(null));
            }
            boolean works = echo(connection);
            System.out.println("   the connection still works on " + connection.path() + ": " + works);
            return works && connection.localAddress().getAddress().equals(wifi);
        }
    }

    private static boolean serverForbidsMigration(InetAddress wifi, InetAddress cellular) throws Exception {
        System.out.println("2. the server forbids migration (disable_active_migration)");
        try (MigrationServer server = server(false);
             MigratingConnection connection = client(server, server.localAddress(), wifi).connect()) {
            System.out.println("   connected on " + connection.path());
            long start = System.nanoTime();
            try {
                connection.migrate(new InetSocketAddress(cellular, 0)).get(10, TimeUnit.SECONDS);
                System.out.println("   unexpected: the migration succeeded");
                return false;
            } catch (ExecutionException e) {
                MigrationException failure = (MigrationException) e.getCause();
                System.out.printf("   after %.1f ms: %s (%s)%n", (System.nanoTime() - start) / 1e6, failure.reason(),
                        failure.getMessage());
            }
            boolean works = echo(connection);
            System.out.println("   the connection still works on " + connection.path() + ": " + works);
            return works;
        }
    }

    private static MigrationServer server(boolean acceptMigration) throws Exception {
        return MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .acceptClientMigration(acceptMigration)
                .onConnection(Examples::echoEveryStream)
                .start();
    }

    private static MigratingClient client(MigrationServer server, InetSocketAddress target, InetAddress local) {
        return MigratingClient.builder()
                .server(target)
                .serverName("localhost")
                .applicationProtocol(PROTOCOL)
                .pinnedCertificate(server.certificate().certificate())
                .localAddress(new InetSocketAddress(local, 0))
                .build();
    }

    /** Sends 64 KiB on a new stream and checks that the same bytes come back. */
    private static boolean echo(MigratingConnection connection) throws Exception {
        byte[] data = new byte[64 * 1024];
        new java.util.Random(1).nextBytes(data);
        BidirectionalStream stream = connection.openStream();
        try (OutputStream out = stream.getOutputStream()) {
            out.write(data);
        }
        try (InputStream in = stream.getInputStream()) {
            return Arrays.equals(data, in.readAllBytes());
        }
    }
}
