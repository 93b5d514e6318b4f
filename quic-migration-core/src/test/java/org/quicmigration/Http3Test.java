package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.quicmigration.http3.Http3Client;
import org.quicmigration.http3.Http3Handler;
import org.quicmigration.http3.Http3Response;
import org.quicmigration.http3.Http3Server;

/** The HTTP/3 layer between our own client and server, with real UDP on loopback. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Http3Test {

    private static final int SIZE = 5 * 1024 * 1024;
    private static final byte[] FILE = Echo.randomBytes(SIZE, 51);

    private static final Http3Handler FILES = (request, responder) -> {
        switch (request.path()) {
            case "/file" -> {
                try (OutputStream body = responder.start(200, Map.of("content-type", "application/octet-stream"))) {
                    for (int offset = 0; offset < FILE.length; offset += 100_000) {
                        body.write(FILE, offset, Math.min(100_000, FILE.length - offset));
                    }
                }
            }
            case "/echo-query?x=1&y=2" -> responder.respond(200, Map.of("x-authority", request.authority().orElse("")),
                    request.path().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            case "/fail" -> throw new IllegalStateException("handler failure, on purpose");
            default -> { } // not answered: 404
        }
    };

    @Test
    void aDownloadSurvivesTwoMigrationsByteForByte() throws Exception {
        try (MigrationServer server = h3Server().start();
             MigratingConnection connection = h3Client(server)
                     .localAddress(new InetSocketAddress(ClientMigrationTest.WIFI, 0)).build().connect()) {
            ClientMigrationTest.awaitSpare(connection);
            Http3Response response = Http3Client.over(connection).get(URI.create("https://localhost/file"));
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("content-type")).hasValue("application/octet-stream");

            MessageDigest sha256 = Echo.sha256();
            long received = 0;
            int migrations = 0;
            byte[] buffer = new byte[16 * 1024];
            try (InputStream body = response.body()) {
                int n;
                while ((n = body.read(buffer)) >= 0) {
                    sha256.update(buffer, 0, n);
                    received += n;
                    if (migrations < 2 && received > (migrations + 1) * (SIZE / 3)) {
                        java.net.InetAddress to = migrations == 0 ? ClientMigrationTest.CELLULAR : Echo.LOOPBACK;
                        connection.migrate(new InetSocketAddress(to, 0)).get(10, TimeUnit.SECONDS);
                        migrations++;
                    }
                }
            }

            assertThat(migrations).isEqualTo(2);
            assertThat(received).isEqualTo(SIZE);
            assertThat(sha256.digest()).as("SHA-256 of the 5 MB body").isEqualTo(Echo.sha256(FILE));
        }
    }

    @Test
    void statusHeadersQueriesAndFailuresReachTheClient() throws Exception {
        try (MigrationServer server = h3Server().start();
             MigratingConnection connection = h3Client(server).build().connect()) {
            Http3Client http = Http3Client.over(connection);

            Http3Response echo = http.get(URI.create("https://localhost:4433/echo-query?x=1&y=2"));
            assertThat(echo.status()).isEqualTo(200);
            assertThat(echo.header("x-authority")).hasValue("localhost:4433");
            assertThat(new String(echo.readBody(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("/echo-query?x=1&y=2");

            assertThat(http.get("localhost", "/missing").status()).as("a request the handler left unanswered")
                    .isEqualTo(404);
            assertThat(http.get("localhost", "/fail").status()).as("a handler that threw").isEqualTo(500);
            assertThat(http.get("localhost", "/file").readBody()).isEqualTo(FILE);
            assertThat(connection.isOpen()).isTrue();
        }
    }

    @Test
    void unknownFrameTypesAreSkippedAndMalformedRequestsResetOnlyTheirStream() throws Exception {
        // A raw server: before its HEADERS it sends a frame of a reserved type (RFC 9114 7.2.8), which must be
        // skipped; a request that starts with DATA is malformed and gets its stream reset.
        try (MigrationServer server = Echo.serverBuilder().applicationProtocol("h3").onConnection(c -> {
                 try {
                     c.openUnidirectionalStream().write(new byte[]{0x00, 0x04, 0x00});
                     BidirectionalStream stream = c.acceptStream(java.time.Duration.ofSeconds(30));
                     stream.getInputStream().readAllBytes();
                     try (OutputStream out = stream.getOutputStream()) {
                         out.write(new byte[]{0x40, 0x21, 0x03, 'a', 'b', 'c'}); // reserved type 0x21, 3 bytes
                         out.write(new byte[]{0x01, 0x03, 0x00, 0x00, (byte) (0xC0 | 25)}); // HEADERS :status 200
                         out.write(new byte[]{0x00, 0x02, 'o', 'k'}); // DATA "ok"
                     }
                     Http3Server.serve(c, FILES);
                 } catch (IOException | InterruptedException e) {
                     // the connection ended
                 }
             }).start();
             MigratingConnection connection = h3Client(server).build().connect()) {
            Http3Client http = Http3Client.over(connection);
            Http3Response response = http.get("localhost", "/anything");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.readBody()).isEqualTo("ok".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

            BidirectionalStream bad = connection.openStream();
            try (OutputStream out = bad.getOutputStream()) {
                out.write(new byte[]{0x00, 0x01, 'x'}); // DATA before HEADERS
            }
            assertThatThrownBy(() -> bad.getInputStream().readAllBytes()).isInstanceOf(IOException.class);
            assertThat(http.get("localhost", "/echo-query?x=1&y=2").status()).as("the connection still serves")
                    .isEqualTo(200);
        }
    }

    @Test
    void aFieldSectionThatNamesTheDynamicTableClosesTheConnectionWithQpackDecompressionFailed() throws Exception {
        try (MigrationServer server = h3Server().start();
             MigratingConnection connection = h3Client(server).build().connect()) {
            BidirectionalStream request = connection.openStream();
            try (OutputStream out = request.getOutputStream()) {
                // HEADERS whose field section says Required Insert Count 1 to a server whose table has capacity 0.
                out.write(new byte[]{0x01, 0x03, 0x01, 0x00, (byte) 0xd1});
            }

            Throwable failure = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    request.getInputStream().readAllBytes();
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            }).get(10, TimeUnit.SECONDS);

            assertThat(failure).as("reading the answer to a field section no conformant encoder makes")
                    .isInstanceOf(ConnectionClosedException.class);
            assertThat(((ConnectionClosedException) failure).errorCode()).as("QPACK_DECOMPRESSION_FAILED (RFC 9204 6)")
                    .hasValue(0x200);
        }
    }

    private static MigrationServer.Builder h3Server() {
        return Echo.serverBuilder().applicationProtocol("h3").onConnection(c -> Http3Server.serve(c, FILES));
    }

    private static MigratingClient.Builder h3Client(MigrationServer server) {
        return Echo.client(server).applicationProtocol("h3");
    }
}
