package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationException;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationStrategy;

/** Small pieces the examples share. */
final class Examples {

    private Examples() {
    }

    /** A server connection handler: echoes every stream the client opens until the client is done. */
    static void echoEveryStream(MigratingConnection connection) {
        echoEveryStream(connection, Duration.ofMinutes(1));
    }

    /** As {@link #echoEveryStream(MigratingConnection)}, ending when no stream came for {@code idle}. */
    static void echoEveryStream(MigratingConnection connection, Duration idle) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(idle);
                try (InputStream in = stream.getInputStream(); OutputStream out = stream.getOutputStream()) {
                    in.transferTo(out);
                }
            }
        } catch (Exception e) {
            // the client closed the connection: this handler is done
        }
    }

    /**
     * Waits (at most 5 s) until the server has given a spare connection ID, which a migration needs; right after
     * the handshake it may still be on its way.
     */
    static void awaitSpareConnectionId(MigratingConnection connection) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (connection.spareConnectionIds() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    /**
     * Migrates, retrying for at most 5 s while the handshake is not confirmed yet: connect() returns when the
     * client's handshake is complete, and the server's HANDSHAKE_DONE, which confirms it (RFC 9001 4.1.2), may still
     * be on its way; RFC 9000 9 forbids migrating before it.
     */
    static MigrationResult migrate(MigratingConnection connection, InetSocketAddress to) throws Exception {
        return migrate(connection, to, MigrationStrategy.SWITCH_THEN_VALIDATE);
    }

    /** As {@link #migrate(MigratingConnection, InetSocketAddress)}, with {@code strategy}. */
    static MigrationResult migrate(MigratingConnection connection, InetSocketAddress to, MigrationStrategy strategy)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                return connection.migrate(to, strategy).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                boolean early = e.getCause() instanceof MigrationException refused
                        && refused.reason() == MigrationException.Reason.HANDSHAKE_NOT_CONFIRMED;
                if (!early || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }

    /**
     * A server connection handler: for every stream, reads the request to its end, then sends the SHA-256 of
     * {@code size} bytes of {@code new Random(seed)} data, then the data.
     */
    static java.util.function.Consumer<MigratingConnection> digestedDownload(int size, long seed) {
        return connection -> {
            try {
                while (true) {
                    BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                    stream.getInputStream().readAllBytes();
                    byte[] data = new byte[size];
                    new java.util.Random(seed).nextBytes(data);
                    try (OutputStream out = stream.getOutputStream()) {
                        out.write(java.security.MessageDigest.getInstance("SHA-256").digest(data));
                        out.write(data);
                    }
                }
            } catch (Exception e) {
                // the client is done
            }
        };
    }

    /**
     * Closes a JSON array of result objects (each line ending in ",\n"), writes it to {@code target/<fileName>},
     * prints where it went and what machine measured it, and returns where it went.
     */
    static java.nio.file.Path writeResults(StringBuilder jsonArray, String fileName) throws java.io.IOException {
        jsonArray.setLength(jsonArray.length() - 2);
        jsonArray.append("\n]\n");
        java.nio.file.Path out = java.nio.file.Path.of("target", fileName);
        java.nio.file.Files.createDirectories(out.getParent());
        java.nio.file.Files.writeString(out, jsonArray);
        System.out.println("raw results: " + out.toAbsolutePath());
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + ", " + System.getProperty("os.name"));
        return out;
    }

    /** What {@link #downloadDigested} received: how many bytes, and whether they matched the server's SHA-256. */
    record Downloaded(long bytes, boolean intact) {
    }

    /**
     * Opens a stream, sends {@code size} as 8 bytes (a {@link #digestedDownload} server ignores the request; one of
     * {@link DemoServer}'s protocol, such as {@link NettyDownloadServer}, sends that many bytes), and reads the
     * answer: the SHA-256, then the data, checked against it. Runs {@code halfway} once, when half of {@code size}
     * is in.
     */
    static Downloaded downloadDigested(MigratingConnection connection, long size, Runnable halfway) throws Exception {
        BidirectionalStream stream = connection.openStream();
        try (java.io.DataOutputStream request = new java.io.DataOutputStream(stream.getOutputStream())) {
            request.writeLong(size);
        }
        try (InputStream in = stream.getInputStream()) {
            byte[] expected = in.readNBytes(32);
            java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[16 * 1024];
            long received = 0;
            boolean ranHalfway = false;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                received += n;
                if (!ranHalfway && received >= size / 2) {
                    ranHalfway = true;
                    halfway.run();
                }
            }
            return new Downloaded(received, received == size && java.security.MessageDigest.isEqual(expected, digest.digest()));
        }
    }
}
