package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migration against an independent implementation, ngtcp2's server: our client follows its preferred_address
 * (RFC 9000 9.6), and it validates our client's active migration. ngtcp2's
 * {@code gtlsserver} (Debian package ngtcp2-server, which .ci/run installs). Skipped, loudly, where it is missing.
 * ngtcp2's server speaks HTTP/3 only; the connection uses ALPN h3 and sends no request: path validation is a QUIC
 * matter and needs none.
 */
class Ngtcp2MigrationInteropTest {

    private static final Path GTLSSERVER = Path.of("/usr/sbin/gtlsserver");
    private static final InetAddress PREFERRED = address("127.0.0.4");

    @TempDir
    Path directory;

    @Test
    void clientMovesToNgtcp2PreferredAddressAfterTheHandshake() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(GTLSSERVER),
                "SKIPPED: " + GTLSSERVER + " not installed (apt-get install ngtcp2-server); .ci/run installs it");
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        Path key = Files.writeString(directory.resolve("key.pem"), certificate.privateKeyPem());
        Path cert = Files.writeString(directory.resolve("cert.pem"), certificate.certificatePem());
        Files.createDirectories(directory.resolve("htdocs"));
        int port = freeUdpPort(Echo.LOOPBACK, false);
        // A port whose low byte is below 0x80: Kwik 0.10.9 cannot decode the others (see README, Kwik bugs).
        int preferredPort = freeUdpPort(PREFERRED, true);
        Path log = directory.resolve("gtlsserver.log");
        Process server = new ProcessBuilder(List.of(GTLSSERVER.toString(), "-d", directory.resolve("htdocs").toString(),
                "--no-http-dump", "--preferred-ipv4-addr=127.0.0.4:" + preferredPort,
                "127.0.0.1", String.valueOf(port), key.toString(), cert.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            MigratingClient client = MigratingClient.builder()
                    .server(new InetSocketAddress(Echo.LOOPBACK, port))
                    .serverName("localhost")
                    .applicationProtocol("h3")
                    .pinnedCertificate(certificate.certificate())
                    .connectTimeout(java.time.Duration.ofSeconds(3))
                    .build();
            MigratingConnection connected;
            try {
                connected = connectWithRetry(client);
            } catch (QuicConnectException e) {
                throw new AssertionError("cannot connect to gtlsserver; its log:\n" + read(log), e);
            }
            try (MigratingConnection connection = connected) {
                List<MigrationEvent> events = new CopyOnWriteArrayList<>();
                connection.addMigrationListener(events::add);

                Await.until(() -> connection.peerAddress().getAddress().equals(PREFERRED)
                                && events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted),
                        10_000, "the client moved to the preferred address and validated it; server log:\n" + read(log));

                assertThat(connection.peerAddress()).isEqualTo(new InetSocketAddress(PREFERRED, preferredPort));
                // The independent witness: ngtcp2 validated our client on its preferred address.
                String validated = "Path validation against path {local:[127.0.0.4]:" + preferredPort;
                Await.until(() -> read(log).lines().anyMatch(line -> line.contains(validated) && line.contains("succeeded")),
                        5_000, "gtlsserver logs a successful path validation on its preferred address");
            }
        } finally {
            server.destroy();
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    @Test
    void ngtcp2ValidatesOurClientsActiveMigration() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(GTLSSERVER),
                "SKIPPED: " + GTLSSERVER + " not installed (apt-get install ngtcp2-server); .ci/run installs it");
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        Path key = Files.writeString(directory.resolve("key.pem"), certificate.privateKeyPem());
        Path cert = Files.writeString(directory.resolve("cert.pem"), certificate.certificatePem());
        Files.createDirectories(directory.resolve("htdocs"));
        int port = freeUdpPort(Echo.LOOPBACK, false);
        Path log = directory.resolve("gtlsserver.log");
        Process server = new ProcessBuilder(List.of(GTLSSERVER.toString(), "-d", directory.resolve("htdocs").toString(),
                "--no-http-dump", "127.0.0.1", String.valueOf(port), key.toString(), cert.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            MigratingClient client = MigratingClient.builder()
                    .server(new InetSocketAddress(Echo.LOOPBACK, port))
                    .serverName("localhost")
                    .applicationProtocol("h3")
                    .pinnedCertificate(certificate.certificate())
                    .localAddress(new InetSocketAddress(ClientMigrationTest.WIFI, 0))
                    .connectTimeout(java.time.Duration.ofSeconds(3))
                    .build();
            try (MigratingConnection connection = connectWithRetry(client)) {
                ClientMigrationTest.awaitSpare(connection);
                Await.until(() -> {
                    try {
                        connection.migrate(new InetSocketAddress(ClientMigrationTest.CELLULAR, 0)).get(5, TimeUnit.SECONDS);
                        return true;
                    } catch (java.util.concurrent.ExecutionException e) {
                        // The handshake may not be confirmed yet right after connect; anything else is a failure.
                        if (e.getCause() instanceof MigrationException m
                                && m.reason() == MigrationException.Reason.HANDSHAKE_NOT_CONFIRMED) {
                            return false;
                        }
                        throw new AssertionError("migration against ngtcp2 failed", e.getCause());
                    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
                        throw new AssertionError(e);
                    }
                }, 5_000, "a migration to 127.0.0.3 completes against gtlsserver");

                assertThat(connection.localAddress().getAddress()).isEqualTo(ClientMigrationTest.CELLULAR);
                // ngtcp2 saw a non-probing packet from our new address and validated it.
                Await.until(() -> read(log).lines().anyMatch(line -> line.contains("Path validation against path")
                                && line.contains("remote:[127.0.0.3]") && line.contains("succeeded")),
                        5_000, "gtlsserver logs a successful validation of our new address");
            }
        } finally {
            server.destroy();
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static MigratingConnection connectWithRetry(MigratingClient client) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return client.connect();
            } catch (QuicConnectException e) {
                // gtlsserver may not listen yet right after the process started
                if (e.reason() != QuicConnectException.Reason.UNREACHABLE || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50); // retry interval while the server process starts
            }
        }
    }

    private static int freeUdpPort(InetAddress address, boolean lowByteBelow0x80) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(address, 0))) {
                int port = probe.getLocalPort();
                if (!lowByteBelow0x80 || (port & 0xFF) < 0x80) {
                    return port;
                }
            }
        }
        throw new IOException("no free UDP port found on " + address);
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
