package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;

/**
 * The first thing to run: a QUIC server and client on loopback exchange data on one connection, and the demo
 * prints what happened. Exits with status 1 if the echoed bytes differ from what was sent.
 *
 * <pre>./run-example EchoDemo</pre>
 */
public final class EchoDemo {

    private static final String PROTOCOL = "echo-demo";

    private EchoDemo() {
    }

    public static void main(String[] args) throws Exception {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 4 * 1024 * 1024;
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(loopback, 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(Examples::echoEveryStream)
                .start()) {
            System.out.println("server   listening on " + server.localAddress() + " with a self-signed certificate for localhost");

            MigratingClient client = MigratingClient.builder()
                    .server(server.localAddress())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .build();
            long start = System.nanoTime();
            try (MigratingConnection connection = client.connect()) {
                System.out.printf("client   connected from %s to %s in %.1f ms (QUIC v1, TLS 1.3, ALPN %s)%n",
                        connection.localAddress(), connection.peerAddress(), millisSince(start), PROTOCOL);

                byte[] data = new byte[size];
                new Random(42).nextBytes(data);
                long sendStart = System.nanoTime();
                byte[] echoed = exchange(connection.openStream(), data);
                double millis = millisSince(sendStart);
                String sent = hex(sha256(data));
                String received = hex(echoed);
                System.out.printf("client   sent %,d bytes and read them back in %.1f ms (%.0f Mbit/s each way)%n",
                        size, millis, size * 8 / millis / 1000);
                System.out.println("sha-256  sent     " + sent);
                System.out.println("sha-256  received " + received);
                if (!sent.equals(received)) {
                    System.out.println("FAILED: the echoed bytes differ from the bytes sent");
                    System.exit(1);
                }
                System.out.println("OK: every byte came back intact over one QUIC connection");
            }
        }
    }

    private static byte[] exchange(BidirectionalStream stream, byte[] data) throws Exception {
        Thread writer = new Thread(() -> {
            try (OutputStream out = stream.getOutputStream()) {
                out.write(data);
            } catch (Exception e) {
                System.out.println("client   write failed: " + e.getMessage());
            }
        }, "demo-writer");
        writer.start();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = stream.getInputStream()) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
            }
        }
        writer.join();
        return digest.digest();
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static double millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }
}
