package org.quicmigration.examples;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationServer;
import org.quicmigration.http3.Http3Client;
import org.quicmigration.http3.Http3Request;
import org.quicmigration.http3.Http3Responder;
import org.quicmigration.http3.Http3Response;
import org.quicmigration.http3.Http3Server;

/**
 * A video download while commuting: five 1 MiB segments fetched with HTTP/3 GETs ({@code /segment/1} ...
 * {@code /segment/5}) over one QUIC connection, through an emulated network with 25 ms of delay each way.
 * Segments 1 and 2 come over home Wi-Fi (127.0.0.2). Halfway through segment 3 the home
 * Wi-Fi drops out of range, abruptly: everything on it is lost from that moment, including what was in flight. The
 * phone moves to cellular (127.0.0.3) and the download goes on. At the office, cellular fails the same way during
 * segment 5 and the phone moves to office Wi-Fi (127.0.0.4). Every segment is checked against the SHA-256 the
 * server sends in an {@code x-sha256} header; the server counts its connections. Exits 1 if a segment differs, a move failed, or the server saw more than one
 * connection.
 *
 * <pre>./run-example CommuteDownload</pre>
 */
public final class CommuteDownload {

    private static final String PROTOCOL = "h3";
    private static final int SEGMENT = 1 << 20;
    private static final int SEGMENTS = 5;

    private CommuteDownload() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress home = InetAddress.getByName("127.0.0.2");
        InetAddress cellular = InetAddress.getByName("127.0.0.3");
        InetAddress office = InetAddress.getByName("127.0.0.4");
        AtomicInteger serverConnections = new AtomicInteger();
        long start = System.nanoTime();
        boolean ok = true;
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(connection -> {
                    serverConnections.incrementAndGet();
                    Http3Server.serve(connection, CommuteDownload::serveSegment);
                })
                .start();
             NetworkEmulator network = NetworkEmulator.builder(server.localAddress())
                     .delay(Duration.ofMillis(25)).start();
             MigratingConnection connection = MigratingClient.builder()
                     .server(network.address())
                     .serverName("localhost")
                     .applicationProtocol(PROTOCOL)
                     .pinnedCertificate(server.certificate().certificate())
                     .localAddress(new InetSocketAddress(home, 0))
                     .build().connect()) {
            print(start, "connected over home Wi-Fi, " + connection.path() + " (25 ms each way)");
            Examples.awaitSpareConnectionId(connection);
            Http3Client http = Http3Client.over(connection);
            CompletableFuture<MigrationResult> move = null;
            for (int segment = 1; segment <= SEGMENTS; segment++) {
                InetAddress failing = segment == 3 ? home : segment == 5 ? cellular : null;
                InetAddress next = segment == 3 ? cellular : office;
                String from = address(connection);
                long begin = System.nanoTime();
                java.util.concurrent.atomic.AtomicReference<CompletableFuture<MigrationResult>> moved =
                        new java.util.concurrent.atomic.AtomicReference<>();
                boolean intact = download(http, segment, () -> {
                    network.outage(failing, true);
                    print(start, "  " + name(failing) + " is gone (out of range): everything on it is lost from now on");
                    moved.set(connection.migrate(new InetSocketAddress(next, 0)));
                }, failing != null);
                if (moved.get() != null) {
                    move = moved.get();
                    MigrationResult result = move.get(10, TimeUnit.SECONDS);
                    print(start, String.format("  moved to %s: new path validated in %.1f ms", name(next),
                            result.validationRoundTrip().toNanos() / 1e6));
                }
                print(start, String.format("segment %d: %,d bytes in %6.1f ms, %s -> %s, sha-256 %s", segment, SEGMENT,
                        (System.nanoTime() - begin) / 1e6, from, address(connection), intact ? "verified" : "MISMATCH"));
                ok &= intact;
            }
            boolean atOffice = connection.localAddress().getAddress().equals(office);
            print(start, "one connection throughout: the server saw " + serverConnections.get() + " connection(s); "
                    + "the client ends on " + connection.path());
            ok &= atOffice && serverConnections.get() == 1 && move != null;
        }
        if (!ok) {
            System.out.println("FAILED: a segment differed, a move failed, or the server saw more than one connection");
            System.exit(1);
        }
        System.out.println("OK: five segments over three networks, two abrupt failures, one connection, every byte verified");
    }

    /**
     * GETs one segment and checks it against the SHA-256 in the response's {@code x-sha256} header; runs
     * {@code networkFails} halfway if {@code failHalfway}.
     */
    private static boolean download(Http3Client http, int segment, Runnable networkFails, boolean failHalfway)
            throws Exception {
        Http3Response response = http.get("localhost", "/segment/" + segment);
        byte[] expected = HexFormat.of().parseHex(response.header("x-sha256").orElse(""));
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[16 * 1024];
        long received = 0;
        boolean failed = !failHalfway;
        try (InputStream in = response.body()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                received += n;
                if (!failed && received >= SEGMENT / 2) {
                    failed = true;
                    networkFails.run();
                }
            }
        }
        return response.status() == 200 && received == SEGMENT && MessageDigest.isEqual(expected, digest.digest());
    }

    /** {@code GET /segment/N}: the segment's bytes, with their SHA-256 in an {@code x-sha256} header. */
    private static void serveSegment(Http3Request request, Http3Responder responder) throws java.io.IOException {
        if (!request.path().matches("/segment/[1-9]")) {
            return; // 404
        }
        byte[] bytes = new byte[SEGMENT];
        new Random(request.path().charAt(request.path().length() - 1)).nextBytes(bytes);
        byte[] sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        responder.respond(200, Map.of("content-type", "video/mp4", "x-sha256", HexFormat.of().formatHex(sha256)), bytes);
    }

    private static String name(InetAddress address) {
        return switch (address.getHostAddress()) {
            case "127.0.0.2" -> "home Wi-Fi";
            case "127.0.0.3" -> "cellular";
            case "127.0.0.4" -> "office Wi-Fi";
            default -> address.getHostAddress();
        };
    }

    private static String address(MigratingConnection connection) {
        return name(connection.localAddress().getAddress());
    }

    private static void print(long start, String line) {
        System.out.printf("%8.1f ms  %s%n", (System.nanoTime() - start) / 1e6, line);
    }
}
