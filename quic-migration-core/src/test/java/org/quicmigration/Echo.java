package org.quicmigration;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Random;

/** Test helpers: an echo server and a digest-checked echo exchange. */
final class Echo {

    static final String ALPN = "echo-test";
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private Echo() {
    }

    /** A server on 127.0.0.1 that echoes every stream until FIN, then closes its side. */
    static MigrationServer startServer() throws IOException {
        return serverBuilder().start();
    }

    /** The test server's settings (127.0.0.1, any port, self-signed "localhost", echo), ready to adjust. */
    static MigrationServer.Builder serverBuilder() {
        return MigrationServer.builder()
                .bindAddress(new InetSocketAddress(LOOPBACK, 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(ALPN)
                .onConnection(Echo::serve);
    }

    /**
     * The connections one test server accepted, in order: a handler that records each connection, then echoes on it.
     * Each test keeps its own, so a test never reads a connection of another test's server (handlers run on the
     * server's own threads, possibly well after the client's handshake has completed).
     */
    static final class Accepted implements java.util.function.Consumer<MigratingConnection> {
        private final java.util.List<MigratingConnection> connections = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.function.Consumer<MigratingConnection> handler;

        /** Records, then echoes. */
        Accepted() {
            this(Echo::serve);
        }

        /** Records, then hands the connection to {@code handler}. */
        Accepted(java.util.function.Consumer<MigratingConnection> handler) {
            this.handler = handler;
        }

        @Override
        public void accept(MigratingConnection connection) {
            connections.add(connection);
            handler.accept(connection);
        }

        /** The first connection the server accepted, waiting up to 5 s for the server's handler to receive it. */
        MigratingConnection first() throws InterruptedException {
            Await.until(() -> !connections.isEmpty(), 5_000, "the server accepts the connection");
            return connections.get(0);
        }

        /** Every connection accepted so far, in order. */
        java.util.List<MigratingConnection> connections() {
            return connections;
        }

        /** The last connection accepted so far, or null. */
        MigratingConnection latest() {
            return connections.isEmpty() ? null : connections.get(connections.size() - 1);
        }

        /** The send side of the last accepted connection, for failure messages. */
        String latestState() {
            MigratingConnection connection = latest();
            return connection == null ? "none" : connection.diagnostics().describeSendSide();
        }
    }

    static void serve(MigratingConnection connection) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(10));
                Thread worker = new Thread(() -> echo(stream), "echo-stream-" + stream.id());
                worker.setDaemon(true);
                worker.start();
            }
        } catch (IOException | InterruptedException e) {
            // connection ended or server closing
        }
    }

    private static void echo(BidirectionalStream stream) {
        byte[] buffer = new byte[32 * 1024];
        try (InputStream in = stream.getInputStream(); OutputStream out = stream.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // connection ended
        }
    }

    static MigratingClient.Builder client(MigrationServer server) {
        return MigratingClient.builder()
                .server(server.localAddress().getAddress().isAnyLocalAddress()
                        ? new InetSocketAddress(LOOPBACK, server.localAddress().getPort())
                        : server.localAddress())
                .serverName("localhost")
                .applicationProtocol(ALPN)
                .pinnedCertificate(server.certificate().certificate());
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    static byte[] sha256(byte[] data) {
        return sha256().digest(data);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Sends {@code data} on a new stream, writing and reading concurrently, and returns the SHA-256 of what came
     * back.
     */
    static byte[] exchange(MigratingConnection connection, byte[] data) throws Exception {
        return exchange(connection, data, received -> { });
    }

    /**
     * {@link #exchange(MigratingConnection, byte[])} on another thread, so that a test can wait for it with a
     * deadline; a failure completes the future with an {@link IllegalStateException} around it.
     */
    static java.util.concurrent.CompletableFuture<byte[]> exchangeAsync(MigratingConnection connection, byte[] data) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return exchange(connection, data);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** As {@link #exchange(MigratingConnection, byte[])}, reporting the bytes received so far after each read. */
    static byte[] exchange(MigratingConnection connection, byte[] data, java.util.function.LongConsumer progress)
            throws Exception {
        BidirectionalStream stream = connection.openStream();
        Thread writer = new Thread(() -> {
            try (OutputStream out = stream.getOutputStream()) {
                int chunk = 16 * 1024;
                for (int offset = 0; offset < data.length; offset += chunk) {
                    out.write(data, offset, Math.min(chunk, data.length - offset));
                }
            } catch (IOException e) {
                // the reader sees the failure too
            }
        }, "echo-writer-" + stream.id());
        writer.setDaemon(true);
        writer.start();
        MessageDigest digest = sha256();
        byte[] buffer = new byte[32 * 1024];
        try (InputStream in = stream.getInputStream()) {
            int n;
            long total = 0;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                total += n;
                progress.accept(total);
            }
        }
        writer.join(10_000);
        return digest.digest();
    }
}
