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
import org.quicmigration.MigrationStrategy;

/**
 * Measures client migration on loopback: the time from {@code migrate()} to a validated path, and the longest
 * gap in received application data around the migration, while the server streams data to the client, for both
 * {@link MigrationStrategy strategies}. Runs without added delay and through a relay adding 20 ms each way;
 * repeats each case and prints medians, the spread, and a machine-readable file
 * ({@code target/migration-benchmark.json}).
 *
 * <pre>./run-example MigrationBenchmark</pre>
 */
public final class MigrationBenchmark {

    private static final String PROTOCOL = "bench";
    private static final InetAddress WIFI = loopback("127.0.0.2");
    private static final InetAddress CELLULAR = loopback("127.0.0.3");

    /** What the server reports about its clients' moves. */
    private static final java.util.List<org.quicmigration.MigrationEvent> SERVER_EVENTS =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    private MigrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        StringBuilder json = new StringBuilder("[\n");
        System.out.printf("%-14s %-15s %5s %24s %24s %24s %26s%n", "added delay", "strategy", "runs",
                "migrate->validated ms", "data gap, migration ms", "data gap, none ms", "server: new address->valid");
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .acceptClientMigration(true)
                .migrationListener(SERVER_EVENTS::add)
                .onConnection(MigrationBenchmark::streamForever)
                .start()) {
            MigrationStrategy[] strategies = MigrationStrategy.values();
            for (long delay : new long[]{0, 20}) {
                double[][] validated = new double[strategies.length][runs];
                double[][] gaps = new double[strategies.length][runs];
                double[][] serverValidated = new double[strategies.length][runs];
                double[] baseline = new double[runs];
                for (int run = 0; run < runs; run++) {
                    // Interleaved: a run with each strategy, then the same without migrating, on fresh connections.
                    for (int i = 0; i < strategies.length; i++) {
                        Trial with = trial(server, delay, strategies[i]);
                        validated[i][run] = with.validatedMillis;
                        gaps[i][run] = with.gapMillis;
                        serverValidated[i][run] = with.serverValidatedMillis;
                    }
                    baseline[run] = trial(server, delay, null).gapMillis;
                }
                for (int i = 0; i < strategies.length; i++) {
                    String name = strategies[i] == MigrationStrategy.VALIDATE_THEN_SWITCH
                            ? "validate-first" : "switch-first";
                    System.out.printf(Locale.ROOT, "%-14s %-15s %5d %24s %24s %24s %26s%n", delay + " ms each way",
                            name, runs, summary(validated[i]), summary(gaps[i]), summary(baseline),
                            summary(serverValidated[i]));
                    json.append(String.format(Locale.ROOT,
                            "  {\"oneWayDelayMs\": %d, \"strategy\": \"%s\", \"runs\": %d, "
                                    + "\"migrateToValidatedMs\": %s, \"dataGapMs\": %s, \"dataGapWithoutMigrationMs\": %s, "
                                    + "\"serverNewAddressToValidatedMs\": %s},%n",
                            delay, strategies[i], runs, Arrays.toString(validated[i]), Arrays.toString(gaps[i]),
                            Arrays.toString(baseline), Arrays.toString(serverValidated[i])));
                }
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

    private record Trial(double validatedMillis, double gapMillis, double serverValidatedMillis) {
    }

    /**
     * Streams for 2 s at full speed; migrates after 1 s with {@code strategy} unless it is null; returns the gaps in
     * the 1 s window around it.
     */
    private static Trial trial(MigrationServer server, long delayMillis, MigrationStrategy strategy) throws Exception {
        try (NetworkEmulator relay = NetworkEmulator.builder(server.localAddress())
                .delay(Duration.ofMillis(delayMillis)).start()) {
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
                java.time.Instant migrateCalled = null;
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
                        if (strategy != null) {
                            migrateCalled = java.time.Instant.now();
                            result = connection.migrate(new InetSocketAddress(CELLULAR, 0), strategy);
                        }
                    }
                }
                double serverValidatedMillis = Double.NaN;
                if (result != null) {
                    MigrationResult done = result.get(10, TimeUnit.SECONDS);
                    validatedMillis = done.total().toNanos() / 1e6;
                    serverValidatedMillis = serverValidation(migrateCalled);
                }
                stream.stopReading(0);
                return new Trial(validatedMillis, maxGap / 1e6, serverValidatedMillis);
            }
        }
    }

    /**
     * Milliseconds from the server seeing the client at a new address (after {@code since}) to validating that
     * address, or NaN: from the move to its completion, or, when the client validated first, from the server's own
     * challenge on the probed path to its answer. The server sees the relay's address for the client, so events are
     * matched by time and path.
     */
    private static double serverValidation(java.time.Instant since) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < deadline) {
            java.time.Instant started = null;
            java.time.Instant completed = null;
            InetSocketAddress moved = null;
            for (org.quicmigration.MigrationEvent event : SERVER_EVENTS) {
                if (event.time().isBefore(since)) {
                    continue;
                }
                if ((event instanceof org.quicmigration.MigrationEvent.MigrationStarted
                        || event instanceof org.quicmigration.MigrationEvent.PathValidationStarted) && started == null) {
                    started = event.time();
                    moved = event.path().remote();
                } else if (event instanceof org.quicmigration.MigrationEvent.PathValidated
                        && event.path().remote().equals(moved) && completed == null) {
                    completed = event.time();
                }
            }
            if (started != null && completed != null) {
                return java.time.Duration.between(started, completed).toNanos() / 1e6;
            }
            Thread.sleep(5);
        }
        return Double.NaN;
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
