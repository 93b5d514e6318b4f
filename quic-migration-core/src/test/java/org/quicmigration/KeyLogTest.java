package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS key log (keyLogFile and SSLKEYLOGFILE): NSS key log lines for every traffic secret, on both sides. */
class KeyLogTest {

    static final Set<String> TRAFFIC_SECRETS = Set.of("CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0");
    /**
     * Kwik's client offers only TLS_AES_128_GCM_SHA256 unless told otherwise, so every traffic secret is a SHA-256
     * output (RFC 8446 7.1: secrets are Hash.length bytes).
     */
    static final int SHA256_LENGTH = 32;
    /** RFC 8446 4.1.2: Random is 32 bytes. */
    static final int CLIENT_RANDOM_LENGTH = 32;

    @TempDir
    Path directory;

    /** One line of an NSS key log. */
    record Line(String label, String clientRandom, String secret) {
        static Line parse(String text) {
            String[] fields = text.split(" ");
            assertThat(fields).as("fields of key log line \"%s\"", text).hasSize(3);
            return new Line(fields[0], fields[1], fields[2]);
        }

        int randomBytes() {
            return HexFormat.of().parseHex(clientRandom).length;
        }

        int secretBytes() {
            return HexFormat.of().parseHex(secret).length;
        }
    }

    static List<Line> lines(Path file) {
        try {
            if (!Files.exists(file)) {
                return List.of();
            }
            return Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).map(Line::parse).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until {@code file} holds {@code count} key lines: the server learns the last ones after connect(). */
    static List<Line> awaitLines(Path file, int count) throws InterruptedException {
        Await.until(() -> lines(file).size() >= count, 5_000, count + " key log lines in " + file);
        return lines(file);
    }

    @Test
    void clientAndServerEachLogTheFourTrafficSecretsOfTheConnection() throws Exception {
        Path clientFile = directory.resolve("client.keys");
        Path serverFile = directory.resolve("server.keys");
        try (MigrationServer server = Echo.serverBuilder().keyLogFile(serverFile).start();
             MigratingConnection connection = Echo.client(server).keyLogFile(clientFile).build().connect()) {
            byte[] data = Echo.randomBytes(10_000, 1);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));

            List<Line> client = awaitLines(clientFile, 4);
            List<Line> serverLines = awaitLines(serverFile, 4);

            for (List<Line> side : List.of(client, serverLines)) {
                assertThat(side).extracting(Line::label).as("labels, one line per traffic secret")
                        .containsExactlyInAnyOrderElementsOf(TRAFFIC_SECRETS);
                assertThat(side).allSatisfy(line -> {
                    assertThat(line.randomBytes()).as("client random of %s", line.label()).isEqualTo(CLIENT_RANDOM_LENGTH);
                    assertThat(line.secretBytes()).as("length of %s for TLS_AES_128_GCM_SHA256", line.label())
                            .isEqualTo(SHA256_LENGTH);
                });
                assertThat(side).extracting(Line::clientRandom).as("one client random per connection").containsOnly(
                        client.get(0).clientRandom());
            }
            assertThat(serverLines).as("the server logs the same client random and secrets as the client")
                    .containsExactlyInAnyOrderElementsOf(client);
            assertThat(client).extracting(Line::secret).as("four different secrets").doesNotHaveDuplicates();
        }
    }

    @Test
    void connectionsSharingOneFileAppendWholeLinesAndKeepWhatWasThere() throws Exception {
        Path file = directory.resolve("shared.keys");
        Files.writeString(file, "# written before\n");
        try (MigrationServer server = Echo.serverBuilder().keyLogFile(file).start()) {
            // Three handshakes at once, so that appends from several connections and both sides overlap; a long
            // connect timeout, as a busy machine slows three concurrent handshakes.
            MigratingClient client = Echo.client(server).keyLogFile(file).connectTimeout(Duration.ofSeconds(15)).build();
            java.util.concurrent.CompletableFuture<?>[] connects = new java.util.concurrent.CompletableFuture<?>[3];
            for (int i = 0; i < connects.length; i++) {
                connects[i] = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return client.connect();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            java.util.concurrent.CompletableFuture.allOf(connects).get(30, java.util.concurrent.TimeUnit.SECONDS);

            // 3 connections x 2 sides x 4 secrets, every line whole, and the file's first line untouched.
            List<Line> all = awaitLines(file, 24);
            assertThat(all).hasSize(24);
            assertThat(Files.readAllLines(file).get(0)).as("what the file held before").isEqualTo("# written before");
            Map<String, List<Line>> byConnection = all.stream().collect(Collectors.groupingBy(Line::clientRandom));
            assertThat(byConnection).as("one client random per connection").hasSize(3);
            byConnection.forEach((random, lines) -> {
                assertThat(lines).extracting(Line::label).as("labels for client random %s", random)
                        .containsExactlyInAnyOrder("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                "CLIENT_TRAFFIC_SECRET_0", "CLIENT_TRAFFIC_SECRET_0",
                                "SERVER_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0");
                assertThat(lines.stream().distinct()).as("client and server wrote the same lines for %s", random)
                        .hasSize(4);
            });
            for (java.util.concurrent.CompletableFuture<?> connect : connects) {
                ((MigratingConnection) connect.join()).close();
            }
        }
    }

    @Test
    void aKeyLogThatCannotBeWrittenLeavesConnectionsWorking() throws Exception {
        Path notAFile = directory; // a directory cannot be opened for appending
        try (MigrationServer server = Echo.serverBuilder().keyLogFile(notAFile).start();
             MigratingConnection connection = Echo.client(server).keyLogFile(notAFile).build().connect()) {
            byte[] data = Echo.randomBytes(10_000, 2);
            assertThat(Echo.exchange(connection, data)).as("echo over a connection whose key log fails")
                    .isEqualTo(Echo.sha256(data));
        }
    }

    @Test
    void sslKeyLogFileIsUsedOnlyWhenSetNotEmptyAndNoFileWasConfigured() {
        Path configured = directory.resolve("configured.keys");
        Path named = directory.resolve("named.keys");
        Map<String, String> set = Map.of("SSLKEYLOGFILE", named.toString());
        Map<String, String> empty = Map.of("SSLKEYLOGFILE", "");
        Map<String, String> unset = Map.of();

        assertThat(KeyLogFiles.choose(configured, set::get)).as("configured file wins").isEqualTo(configured);
        assertThat(KeyLogFiles.choose(null, set::get)).as("SSLKEYLOGFILE set").isEqualTo(named);
        assertThat(KeyLogFiles.choose(null, empty::get)).as("SSLKEYLOGFILE empty").isNull();
        assertThat(KeyLogFiles.choose(null, unset::get)).as("SSLKEYLOGFILE unset").isNull();
    }
}
