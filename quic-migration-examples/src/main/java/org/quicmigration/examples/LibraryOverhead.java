package org.quicmigration.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;
import org.quicmigration.ServerCertificate;

import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicConnection;
import tech.kwik.core.QuicStream;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * What the library costs over the engine it is built on: a digest-checked N MiB download over loopback, through
 * plain Kwik 0.10.9 (its own client and server, nothing of ours) and through {@link MigratingClient} /
 * {@link MigrationServer}, with the same flow-control windows and no migration. The two alternate, a fresh
 * connection each run; the median throughput and process CPU time per MiB of each, their spread and the ratio are
 * printed, and the raw runs written to {@code target/library-overhead.json}. A download not finished within
 * {@value #STALL_SECONDS} s counts as stalled and is left out of the medians (plain Kwik stalls on its own lost send
 * request; see docs/kwik-workarounds.md#w1). Exits 1 if a download came back wrong or one of ours stalled. (This
 * harness uses Kwik's API directly, for the baseline; the library's own API never exposes it.)
 *
 * <pre>./run-example LibraryOverhead 50 5</pre>
 */
public final class LibraryOverhead {

    private static final String PROTOCOL = "overhead";
    private static final long WINDOW = 1024 * 1024;
    private static final int CHUNK = 64 * 1024;

    /** A download not finished after this long has stalled (plain Kwik's lost send request, docs/kwik-workarounds.md#w1). */
    private static final long STALL_SECONDS = 20;
    private static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "overhead-reader");
        thread.setDaemon(true);
        return thread;
    });

    private record Sample(String stack, int run, double millis, double cpuMillis, boolean intact, boolean stalled) {
        double mbitPerSecond(int mebibytes) {
            return mebibytes * 8.0 * 1.048576 / (millis / 1000);
        }
    }

    private LibraryOverhead() {
    }

    public static void main(String[] args) throws Exception {
        int mebibytes = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        byte[] data = new byte[mebibytes << 20];
        new Random(7).nextBytes(data);
        byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(data);
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");

        try (PlainKwikServer kwik = new PlainKwikServer(certificate, data, sha256);
             MigrationServer ours = MigrationServer.builder()
                     .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                     .certificate(certificate)
                     .applicationProtocol(PROTOCOL)
                     .streamReceiveWindow(WINDOW)
                     .onConnection(connection -> serve(connection, data, sha256))
                     .start()) {
            // Warm-up, both stacks: JIT and class loading.
            plainKwik(kwik.port(), Math.min(data.length, 8 << 20), -1, certificate);
            quicMigration(ours, certificate, Math.min(data.length, 8 << 20), -1);
            List<Sample> samples = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                samples.add(plainKwik(kwik.port(), data.length, run, certificate));
                samples.add(quicMigration(ours, certificate, data.length, run));
            }
            report(samples, mebibytes);
            StringBuilder json = new StringBuilder("[\n");
            for (Sample sample : samples) {
                json.append(String.format(Locale.ROOT, "  {\"stack\": \"%s\", \"run\": %d, \"mebibytes\": %d, "
                                + "\"millis\": %.2f, \"cpu_millis\": %.1f, \"intact\": %b, \"stalled\": %b},%n",
                        sample.stack(), sample.run(), mebibytes, sample.millis(), sample.cpuMillis(), sample.intact(),
                        sample.stalled()));
            }
            Examples.writeResults(json, "library-overhead.json");
            if (samples.stream().anyMatch(s -> !s.stalled() && !s.intact())
                    || samples.stream().anyMatch(s -> s.stalled() && s.stack().equals("quic-migration"))) {
                System.out.println("FAILED: a download differed from what the server sent, or one of ours stalled");
                System.exit(1);
            }
        }
        System.exit(0); // Kwik's plain client leaves non-daemon threads behind
    }

    private static void report(List<Sample> samples, int mebibytes) {
        System.out.printf("%-16s %5s %22s %14s %8s%n", "stack", "runs", "Mbit/s median (range)", "CPU ms/MiB", "stalled");
        double[] medians = new double[2];
        int i = 0;
        for (String stack : List.of("plain Kwik", "quic-migration")) {
            long stalled = samples.stream().filter(s -> s.stack().equals(stack) && s.stalled()).count();
            double[] rates = samples.stream().filter(s -> s.stack().equals(stack) && !s.stalled())
                    .mapToDouble(s -> s.mbitPerSecond(mebibytes)).sorted().toArray();
            double[] cpu = samples.stream().filter(s -> s.stack().equals(stack) && !s.stalled())
                    .mapToDouble(s -> s.cpuMillis() / mebibytes).sorted().toArray();
            if (rates.length == 0) {
                System.out.printf(Locale.ROOT, "%-16s %5d %22s %14s %8d%n", stack, 0, "-", "-", stalled);
                i++;
                continue;
            }
            medians[i++] = rates[rates.length / 2];
            System.out.printf(Locale.ROOT, "%-16s %5d %8.0f (%4.0f-%4.0f) %14.1f %8d%n", stack, rates.length,
                    rates[rates.length / 2], rates[0], rates[rates.length - 1], cpu[cpu.length / 2], stalled);
        }
        if (medians[0] > 0 && medians[1] > 0) {
            System.out.printf(Locale.ROOT, "quic-migration / plain Kwik throughput: %.2f%n", medians[1] / medians[0]);
        } else {
            System.out.println("quic-migration / plain Kwik throughput: not measured (every run of one stack stalled)");
        }
    }

    // ---- quic-migration ------------------------------------------------------------------------------------------

    private static Sample quicMigration(MigrationServer server, ServerCertificate certificate, int size, int run)
            throws Exception {
        try (MigratingConnection connection = MigratingClient.builder()
                .server(server.localAddress())
                .serverName("localhost")
                .applicationProtocol(PROTOCOL)
                .pinnedCertificate(certificate.certificate())
                .streamReceiveWindow(WINDOW)
                .build().connect()) {
            BidirectionalStream stream = connection.openStream();
            long cpu = processCpuNanos();
            long start = System.nanoTime();
            stream.getOutputStream().write(intBytes(size));
            stream.getOutputStream().close();
            Boolean intact = readDigestedWithin(stream.getInputStream(), size, connection::close);
            return new Sample("quic-migration", run, (System.nanoTime() - start) / 1e6, (processCpuNanos() - cpu) / 1e6,
                    Boolean.TRUE.equals(intact), intact == null);
        }
    }

    private static void serve(MigratingConnection connection, byte[] data, byte[] sha256) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(5));
                respond(stream.getInputStream(), stream.getOutputStream(), data, sha256);
            }
        } catch (IOException | InterruptedException e) {
            // the client is done
        }
    }

    // ---- plain Kwik ----------------------------------------------------------------------------------------------

    private static Sample plainKwik(int port, int size, int run, ServerCertificate certificate) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("server", certificate.certificate()); // as pinned as our client's
        QuicClientConnection connection = QuicClientConnection.newBuilder()
                .uri(URI.create("https://localhost:" + port))
                .applicationProtocol(PROTOCOL)
                .customTrustStore(trusted)
                .defaultStreamReceiveBufferSize(WINDOW)
                .maxIdleTimeout(Duration.ofSeconds(30))
                .logger(new NullLogger())
                .build();
        connection.connect();
        try {
            QuicStream stream = connection.createStream(true);
            long cpu = processCpuNanos();
            long start = System.nanoTime();
            stream.getOutputStream().write(intBytes(size));
            stream.getOutputStream().close();
            Boolean intact = readDigestedWithin(stream.getInputStream(), size, connection::close);
            return new Sample("plain Kwik", run, (System.nanoTime() - start) / 1e6, (processCpuNanos() - cpu) / 1e6,
                    Boolean.TRUE.equals(intact), intact == null);
        } finally {
            connection.close();
        }
    }

    /** Kwik's own server on loopback, configured as {@link MigrationServer} configures it. */
    private static final class PlainKwikServer implements AutoCloseable {
        private final ServerConnector connector;
        private final DatagramSocket socket;

        PlainKwikServer(ServerCertificate certificate, byte[] data, byte[] sha256) throws Exception {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            char[] password = "overhead".toCharArray();
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(null, null);
            keyStore.setKeyEntry("server", certificate.privateKey(), password,
                    certificate.chain().toArray(new X509Certificate[0]));
            connector = ServerConnector.builder()
                    .withSocket(socket)
                    .withKeyStore(keyStore, "server", password, "secp256r1")
                    .withConfiguration(ServerConnectionConfig.builder()
                            .maxIdleTimeout(30_000)
                            .maxOpenPeerInitiatedBidirectionalStreams(100)
                            .maxOpenPeerInitiatedUnidirectionalStreams(3)
                            .maxBidirectionalStreamBufferSize(WINDOW)
                            .maxConnectionBufferSize(WINDOW * 4)
                            .connectionIdLength(8)
                            .retryRequired(false)
                            .build())
                    .withLogger(new NullLogger())
                    .build();
            connector.registerApplicationProtocol(PROTOCOL, new ApplicationProtocolConnectionFactory() {
                @Override
                public ApplicationProtocolConnection createConnection(String protocol, QuicConnection connection) {
                    return new ApplicationProtocolConnection() {
                        @Override
                        public void acceptPeerInitiatedStream(QuicStream stream) {
                            Thread worker = new Thread(() -> {
                                try {
                                    respond(stream.getInputStream(), stream.getOutputStream(), data, sha256);
                                } catch (IOException e) {
                                    // the client is done
                                }
                            }, "plain-kwik-response");
                            worker.setDaemon(true);
                            worker.start();
                        }
                    };
                }

                @Override
                public int maxConcurrentPeerInitiatedBidirectionalStreams() {
                    return 100;
                }

                @Override
                public int maxConcurrentPeerInitiatedUnidirectionalStreams() {
                    return 3;
                }
            });
            connector.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() {
            connector.close();
            socket.close();
        }
    }

    // ---- both ------------------------------------------------------------------------------------------------------

    /** The request is the size wanted (4 bytes); the answer is the SHA-256 of that prefix of the data, then it. */
    private static void respond(InputStream in, OutputStream out, byte[] data, byte[] sha256) throws IOException {
        byte[] request = in.readAllBytes();
        int size = request.length == 4 ? java.nio.ByteBuffer.wrap(request).getInt() : 0;
        try (out) {
            byte[] digest = size == data.length ? sha256 : sha256(data, size);
            out.write(digest);
            for (int offset = 0; offset < size; offset += CHUNK) {
                out.write(data, offset, Math.min(CHUNK, size - offset));
            }
        }
    }

    /** {@link #readDigested}, bounded by {@link #STALL_SECONDS}; null if it stalled (then {@code abort} ran). */
    private static Boolean readDigestedWithin(InputStream in, int size, Runnable abort) throws Exception {
        java.util.concurrent.Future<Boolean> read = READERS.submit(() -> readDigested(in, size));
        try {
            return read.get(STALL_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            abort.run();
            read.cancel(true);
            return null;
        }
    }

    private static boolean readDigested(InputStream in, int size) throws IOException {
        try (in) {
            byte[] expected = in.readNBytes(32);
            MessageDigest digest = sha256();
            byte[] buffer = new byte[CHUNK];
            long received = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, n);
                received += n;
            }
            return received == size && MessageDigest.isEqual(expected, digest.digest());
        }
    }

    private static byte[] sha256(byte[] data, int length) {
        MessageDigest digest = sha256();
        digest.update(data, 0, length);
        return digest.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] intBytes(int value) {
        return java.nio.ByteBuffer.allocate(4).putInt(value).array();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
