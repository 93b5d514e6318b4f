package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key log decrypts a real capture of a whole migration: dumpcap records a connection that starts on 127.0.0.2
 * and moves to 127.0.0.3, and tshark, given the client's or the server's key log, finds in it the PATH_CHALLENGE and
 * PATH_RESPONSE data that both endpoints reported. Needs root (to capture) and tshark with dumpcap.
 */
class KeyLogCaptureTest {

    private static final InetAddress WIFI = ClientMigrationTest.WIFI;
    private static final InetAddress CELLULAR = ClientMigrationTest.CELLULAR;
    private static final long PROCESS_TIMEOUT_SECONDS = 30;

    @TempDir
    Path directory;

    @Test
    void tsharkDecryptsTheWholeMigrationWithEitherSidesKeyLog() throws Exception {
        Path tshark = onPath("tshark");
        Path dumpcap = onPath("dumpcap");
        assumeTrue("root".equals(System.getProperty("user.name")),
                "SKIPPED: capturing on loopback needs root (user is " + System.getProperty("user.name") + ")");
        assumeTrue(tshark != null && dumpcap != null,
                "SKIPPED: tshark and dumpcap are not installed (Debian: apt-get install tshark)");

        Path clientKeys = directory.resolve("client.keys");
        Path serverKeys = directory.resolve("server.keys");
        Path noKeys = Files.createFile(directory.resolve("empty.keys"));
        List<MigrationEvent> clientEvents = new CopyOnWriteArrayList<>();
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        Path capture = directory.resolve("migration.pcapng");
        int port;
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(true).keyLogFile(serverKeys)
                .migrationListener(serverEvents::add).start()) {
            port = server.localAddress().getPort();
            try (Capture recording = Capture.start(dumpcap, port)) {
                try (MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                        .keyLogFile(clientKeys).build().connect()) {
                    connection.addMigrationListener(clientEvents::add);
                    byte[] before = Echo.randomBytes(20_000, 1);
                    assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
                    ClientMigrationTest.awaitSpare(connection);

                    connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
                    byte[] after = Echo.randomBytes(20_000, 2);
                    assertThat(Echo.exchange(connection, after)).isEqualTo(Echo.sha256(after));
                    Await.until(() -> clientEvents.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidated),
                            5_000, "the client validated its new path");
                    Await.until(() -> serverEvents.stream().anyMatch(e -> e instanceof MigrationEvent.PathValidated),
                            5_000, "the server validated the client's new address");
                }
                recording.writeTo(capture);
            }
        }

        Set<String> clientChallenges = challengeData(clientEvents);
        Set<String> serverChallenges = challengeData(serverEvents);
        assertThat(clientChallenges).as("PATH_CHALLENGE data the client reported").isNotEmpty();
        assertThat(serverChallenges).as("PATH_CHALLENGE data the server reported").isNotEmpty();

        for (Path keys : List.of(clientKeys, serverKeys)) {
            Decrypted decrypted = decrypt(tshark, capture, keys, port);
            assertThat(decrypted.challenges()).as("PATH_CHALLENGE data tshark decrypted with %s (%s)",
                            keys.getFileName(), decrypted.summary())
                    .containsAll(clientChallenges).containsAll(serverChallenges);
            assertThat(decrypted.responses()).as("PATH_RESPONSE data tshark decrypted with %s", keys.getFileName())
                    .containsAll(clientChallenges).containsAll(serverChallenges);
            assertThat(decrypted.sources()).as("client addresses in the capture").contains(WIFI.getHostAddress(),
                    CELLULAR.getHostAddress());
            assertThat(decrypted.undecrypted()).as("datagrams tshark could not decrypt with %s", keys.getFileName())
                    .isEmpty();
        }
        Decrypted withoutKeys = decrypt(tshark, capture, noKeys, port);
        assertThat(withoutKeys.challenges()).as("without the key log, 1-RTT frames stay encrypted").isEmpty();
        assertThat(withoutKeys.undecrypted()).as("without the key log, datagrams tshark cannot decrypt").isNotEmpty();
    }

    private static Set<String> challengeData(List<MigrationEvent> events) {
        return events.stream().filter(e -> e instanceof MigrationEvent.PathValidationStarted)
                .map(e -> ((MigrationEvent.PathValidationStarted) e).challengeData().toLowerCase())
                .collect(Collectors.toSet());
    }

    /**
     * What tshark read: the path frames' data, the source addresses, and the datagrams (source to destination) in
     * which it found no frame at all, that is, could decrypt no packet.
     */
    record Decrypted(Set<String> challenges, Set<String> responses, Set<String> sources, List<String> undecrypted,
                     List<String> lines) {

        /** For failure messages: how many datagrams tshark read, how many it could not decrypt, the first ones. */
        String summary() {
            return lines.size() + " datagrams, " + undecrypted.size() + " not decrypted; first: "
                    + lines.subList(0, Math.min(6, lines.size()));
        }
    }

    /**
     * Reads the capture with tshark, decoding UDP {@code port} as QUIC; the marker datagram, which is not QUIC, is
     * left out.
     */
    private Decrypted decrypt(Path tshark, Path capture, Path keys, int port) throws Exception {
        Path output = directory.resolve("tshark-" + keys.getFileName() + ".txt");
        Path errors = directory.resolve("tshark-" + keys.getFileName() + ".err");
        Process process = new ProcessBuilder(tshark.toString(), "-n", "-r", capture.toString(),
                "-o", "tls.keylog_file:" + keys, "-d", "udp.port==" + port + ",quic",
                "-T", "fields", "-E", "separator=;", "-e", "ip.src", "-e", "ip.dst", "-e", "quic.frame_type",
                "-e", "quic.path_challenge.data", "-e", "quic.path_response.data")
                .redirectOutput(output.toFile()).redirectError(errors.toFile()).start();
        try {
            assertThat(process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS))
                    .as("tshark -r finishes within %d s", PROCESS_TIMEOUT_SECONDS).isTrue();
            assertThat(process.exitValue()).as("tshark exit code; stderr: %s", Files.readString(errors)).isZero();
        } finally {
            process.destroyForcibly();
        }
        Set<String> challenges = new java.util.HashSet<>();
        Set<String> responses = new java.util.HashSet<>();
        Set<String> sources = new java.util.HashSet<>();
        List<String> undecrypted = new java.util.ArrayList<>();
        List<String> lines = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(output)) {
            String[] fields = line.split(";", -1);
            assertThat(fields).as("tshark fields in \"%s\"", line).hasSize(5);
            if (fields[1].equals(Capture.MARKER_DESTINATION)) {
                continue;
            }
            lines.add(line);
            sources.add(fields[0]);
            if (fields[2].isBlank()) {
                undecrypted.add(fields[0] + " -> " + fields[1]);
            }
            addAll(challenges, fields[3]);
            addAll(responses, fields[4]);
        }
        return new Decrypted(challenges, responses, sources, undecrypted, lines);
    }

    private static void addAll(Set<String> into, String field) {
        for (String value : field.split(",")) {
            if (!value.isBlank()) {
                into.add(value.replace(":", "").trim().toLowerCase());
            }
        }
    }

    private static Path onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * dumpcap capturing UDP on one port of the loopback interface, writing pcapng to a pipe (which it flushes after
     * every packet) that a thread collects. Marker datagrams, sent to an address nothing listens on, fence the
     * capture at both ends: {@link #start} returns once a marker has come through the pipe, so the capture is live
     * before the connection's first datagram (dumpcap's "Capturing on" message can come before its socket receives
     * anything, and a capture without the ClientHello cannot be decrypted at all); {@link #writeTo} sends another
     * and waits for it, and since the capture keeps the order in which loopback delivered packets, everything sent
     * before it is in the capture by then.
     */
    private static final class Capture implements AutoCloseable {
        /** A loopback address nothing listens on: the marker, sent there on the captured port, reaches no endpoint. */
        static final String MARKER_DESTINATION = "127.0.0.4";

        private final Process process;
        private final int port;
        private final ByteArrayOutputStream pcap = new ByteArrayOutputStream();
        private final List<String> stderr = new CopyOnWriteArrayList<>();
        private final Thread reader;
        private final Thread errorReader;

        private Capture(Process process, int port) {
            this.process = process;
            this.port = port;
            this.reader = daemon("dumpcap-stdout", () -> collect(process.getInputStream()));
            this.errorReader = daemon("dumpcap-stderr", () -> lines(process.getErrorStream()));
        }

        static Capture start(Path dumpcap, int port) throws Exception {
            Process process = new ProcessBuilder(dumpcap.toString(), "-q", "-i", "lo", "-f", "udp port " + port,
                    "-w", "-").start();
            Capture capture = new Capture(process, port);
            try {
                // dumpcap says so once its filter is installed: from then on, no packet on the port is missed.
                Await.until(() -> capture.stderr.stream().anyMatch(l -> l.contains("Capturing on"))
                                || !process.isAlive(), 10_000, "dumpcap reports \"Capturing on\"");
                assertThat(process.isAlive()).as("dumpcap runs; it said: %s", capture.stderr).isTrue();
                capture.fence(true);
            } catch (AssertionError | RuntimeException e) {
                capture.close();
                throw e;
            }
            return capture;
        }

        void writeTo(Path file) throws Exception {
            fence(false);
            Files.write(file, snapshot());
        }

        /**
         * Sends a marker datagram and waits until the capture holds it. Until the capture is live, a marker is lost,
         * so {@code resend} sends it again every 50 ms; once it is live, one is enough.
         */
        private void fence(boolean resend) throws Exception {
            byte[] marker = new byte[32];
            new SecureRandom().nextBytes(marker);
            InetSocketAddress nowhere = new InetSocketAddress(InetAddress.getByName(MARKER_DESTINATION), port);
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                long[] lastSent = {0};
                socket.send(new DatagramPacket(marker, marker.length, nowhere));
                lastSent[0] = System.nanoTime();
                Await.until(() -> {
                    if (contains(snapshot(), marker)) {
                        return true;
                    }
                    if (resend && System.nanoTime() - lastSent[0] > TimeUnit.MILLISECONDS.toNanos(50)) {
                        try {
                            socket.send(new DatagramPacket(marker, marker.length, nowhere));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        lastSent[0] = System.nanoTime();
                    }
                    return false;
                }, 10_000, "a marker datagram reaches the capture");
            }
        }

        private byte[] snapshot() {
            synchronized (pcap) {
                return pcap.toByteArray();
            }
        }

        private static boolean contains(byte[] data, byte[] marker) {
            outer:
            for (int i = 0; i + marker.length <= data.length; i++) {
                for (int j = 0; j < marker.length; j++) {
                    if (data[i + j] != marker[j]) {
                        continue outer;
                    }
                }
                return true;
            }
            return false;
        }

        private void collect(InputStream in) {
            byte[] buffer = new byte[64 * 1024];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (pcap) {
                        pcap.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // dumpcap ended
            }
        }

        private void lines(InputStream in) {
            try (java.io.BufferedReader reader = new java.io.BufferedReader(
                    new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    stderr.add(line);
                }
            } catch (IOException e) {
                // dumpcap ended
            }
        }

        private static Thread daemon(String name, Runnable task) {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(5_000);
            errorReader.join(5_000);
        }
    }
}
