package org.quicmigration.examples;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;

/**
 * The server half of the two-terminal demo (the client is {@link DemoClient}). Serves downloads of any size and
 * logs each client that connects, moves, or leaves. It writes its self-signed certificate to a file, which the
 * client pins. Runs until stopped (Ctrl+C).
 *
 * <pre>./run-example DemoServer 127.0.0.1:4433 demo-server.pem</pre>
 *
 * Arguments: the address to listen on (default 127.0.0.1:4433; port 0 picks a free one) and where to write the
 * certificate (default demo-server.pem in the working directory).
 */
public final class DemoServer {

    static final String PROTOCOL = "quic-migration-demo";
    /** The largest download a client may ask for. */
    static final long MAX_DOWNLOAD = 1L << 30;

    private DemoServer() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress bind = DemoClient.parseAddress(args.length > 0 ? args[0] : "127.0.0.1:4433");
        Path certificateFile = Path.of(args.length > 1 ? args[1] : "demo-server.pem");
        AtomicInteger clients = new AtomicInteger();
        MigrationServer server = MigrationServer.builder()
                .bindAddress(bind)
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(connection -> serve(connection, clients.incrementAndGet()))
                .start();
        Files.writeString(certificateFile, server.certificate().certificatePem());
        System.out.println("server   listening on " + server.localAddress());
        System.out.println("server   certificate for localhost written to " + certificateFile.toAbsolutePath()
                + " (the client pins it)");
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        Thread.currentThread().join(); // until Ctrl+C
    }

    private static void serve(MigratingConnection connection, int number) {
        String name = "client " + number;
        System.out.println(name + " connected from " + connection.peerAddress());
        connection.addMigrationListener(event -> {
            if (event instanceof MigrationEvent.MigrationStarted started) {
                System.out.println(name + " appeared at " + started.path().remote());
            } else if (event instanceof MigrationEvent.MigrationCompleted completed) {
                System.out.println(name + " moved: now at " + completed.path().remote() + " (validated)");
            } else if (event instanceof MigrationEvent.MigrationAbandoned abandoned) {
                System.out.println(name + " did not answer at " + abandoned.path().remote() + "; staying on the old address");
            }
        });
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofHours(1));
                long size = new DataInputStream(stream.getInputStream()).readLong();
                if (size < 0 || size > MAX_DOWNLOAD) {
                    stream.getOutputStream().close();
                    System.out.println(name + " asked for " + size + " bytes: refused (at most " + MAX_DOWNLOAD + ")");
                    continue;
                }
                send(stream, size);
                System.out.printf("%s downloaded %,d bytes at %s%n", name, size, connection.peerAddress());
            }
        } catch (Exception e) {
            System.out.println(name + " left");
        }
    }

    /** The SHA-256 of the download, then the download: {@code size} bytes of seeded random data. */
    static void send(BidirectionalStream stream, long size) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[64 * 1024];
        Random random = new Random(size);
        for (long left = size; left > 0; left -= block.length) {
            random.nextBytes(block);
            digest.update(block, 0, (int) Math.min(block.length, left));
        }
        random = new Random(size);
        try (OutputStream out = stream.getOutputStream()) {
            out.write(digest.digest());
            for (long left = size; left > 0; left -= block.length) {
                random.nextBytes(block);
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
