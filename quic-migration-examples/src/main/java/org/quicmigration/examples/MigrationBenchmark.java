package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationResult;
import org.quicmigration.MigrationServer;

/**
 * Measures client migration on loopback: the time from {@code migrate()} to a validated path, and the longest
 * gap in received application data around the migration, while the server streams data to the client. Runs
 * without added delay and through a relay adding 20 ms each way; repeats each case and prints medians, the
 * spread, and a machine-readable file ({@code target/migration-benchmark.json}).
 *
 * <pre>mvn -q -B install -DskipTests && mvn -q -B -pl quic-migration-examples exec:java \
 *     -Dexec.mainClass=org.quicmigration.examples.MigrationBenchmark</pre>
 */
public final class MigrationBenchmark {

    private static final String PROTOCOL = "bench";
    private static final InetAddress WIFI = loopback("127.0.0.2");
    private static final InetAddress CELLULAR = loopback("127.0.0.3");

    private MigrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        StringBuilder json = new StringBuilder("[\n");
        System.out.printf("%-14s %6s %28s %28s %28s%n", "added delay", "runs", "migrate->validated ms",
                "data gap, migration ms", "data gap, no migration ms");
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .acceptClientMigration(true)
                .onConnection(MigrationBenchmark::streamForever)
                .start()) {
            for (long delay : new long[]{0, 20}) {
                double[] validated = new double[runs];
                double[] gaps = new double[runs];
                double[] baseline = new double[runs];
                for (int run = 0; run < runs; run++) {
                    // Interleaved: a run with a migration, then the same without, on fresh connections.
                    Trial with = trial(server, delay, true);
                    Trial without = trial(server, delay, false);
                    validated[run] = with.validatedMillis;
                    gaps[run] = with.gapMillis;
                    baseline[run] = without.gapMillis;
                }
                System.out.printf(Locale.ROOT, "%-14s %6d %28s %28s %28s%n", delay + " ms each way", runs,
                        summary(validated), summary(gaps), summary(baseline));
                json.append(String.format(Locale.ROOT,
                        "  {\"oneWayDelayMs\": %d, \"runs\": %d, \"migrateToValidatedMs\": %s, \"dataGapMs\": %s, "
                                + "\"dataGapWithoutMigrationMs\": %s},%n",
                        delay, runs, Arrays.toString(validated), Arrays.toString(gaps), Arrays.toString(baseline)));
            }
        }
        json.setLength(json.length() - 2);
        json.append("\n]\n");
        Path out = Path.of("target", "migration-benchmark.json");
        Files.createDirectories(out.getParent());
        Files.writeString(out, json.toString(), StandardCharsets.UTF_8);
        System.out.println("raw results: " + out.toAbsolutePath());
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + ", " + System.getProperty("os.name"));
    }

    private record Trial(double validatedMillis, double gapMillis) {
    }

    /** Streams for 2 s at full speed; migrates after 1 s if asked; returns the gaps in the 1 s window around it. */
    private static Trial trial(MigrationServer server, long delayMillis, boolean migrate) throws Exception {
        try (DelayRelay relay = new DelayRelay(server.localAddress(), delayMillis)) {
            MigratingClient client = MigratingClient.builder()
                    .server(relay.address())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .localAddress(new InetSocketAddress(WIFI, 0))
                    .build();
            try (MigratingConnection connection = client.connect()) {
                Examples.awaitSpareConnectionId(connection);
                BidirectionalStream stream = connection.openStream();
                stream.getOutputStream().write(1);
                stream.getOutputStream().flush();
                InputStream in = stream.getInputStream();
                byte[] buffer = new byte[16 * 1024];
                long start = System.nanoTime();
                long migrateAt = start + TimeUnit.SECONDS.toNanos(1);
                long end = start + TimeUnit.SECONDS.toNanos(2);
                long windowStart = migrateAt - TimeUnit.MILLISECONDS.toNanos(200);
                long windowEnd = migrateAt + TimeUnit.MILLISECONDS.toNanos(800);
                long last = System.nanoTime();
                long maxGap = 0;
                boolean migrated = false;
                double validatedMillis = Double.NaN;
                java.util.concurrent.CompletableFuture<MigrationResult> result = null;
                while (System.nanoTime() < end) {
                    if (in.read(buffer) < 0) {
                        throw new IllegalStateException("server ended the stream");
                    }
                    long now = System.nanoTime();
                    if (now >= windowStart && last <= windowEnd) {
                        maxGap = Math.max(maxGap, now - last);
                    }
                    last = now;
                    if (!migrated && now >= migrateAt) {
                        migrated = true;
                        if (migrate) {
                            result = connection.migrate(new InetSocketAddress(CELLULAR, 0));
                        }
                    }
                }
                if (result != null) {
                    validatedMillis = result.get(10, TimeUnit.SECONDS).total().toNanos() / 1e6;
                }
                stream.stopReading(0);
                return new Trial(validatedMillis, maxGap / 1e6);
            }
        }
    }

    private static void streamForever(MigratingConnection connection) {
        try {
            BidirectionalStream stream = connection.acceptStream(Duration.ofSeconds(30));
            stream.getInputStream().read();
            OutputStream out = stream.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            while (true) {
                out.write(chunk);
            }
        } catch (Exception e) {
            // the client stopped reading or closed: done
        }
    }

    private static String summary(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
    }

    private static InetAddress loopback(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
