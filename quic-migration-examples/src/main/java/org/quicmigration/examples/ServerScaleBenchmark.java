package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;

/**
 * Server scale under NAT rebinding: one server keeps N connections (default 200; the figure is 1,000),
 * every client behind one {@link NatEmulator} that rebinds all of them at the same moment. Each client then sends a
 * small echo, which shows the server its new address; the server must validate every new address and carry on.
 * Reports the time until the server validated all of them, the process CPU time per migration, the heap per
 * connection, and how many connections failed; writes {@code target/server-scale.json}.
 *
 * <p>Client and server share this JVM, so CPU and heap include both sides of every connection.
 *
 * <pre>mvn -q -B install -DskipTests && mvn -q -B -pl quic-migration-examples exec:java \
 *     -Dexec.mainClass=org.quicmigration.examples.ServerScaleBenchmark -Dexec.args=1000</pre>
 */
public final class ServerScaleBenchmark {

    private static final String PROTOCOL = "scale";

    private ServerScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        List<MigrationEvent> completed = java.util.Collections.synchronizedList(new ArrayList<>());
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .idleTimeout(Duration.ofMinutes(5))
                .migrationListener(event -> {
                    if (event instanceof MigrationEvent.MigrationCompleted) {
                        completed.add(event);
                    }
                })
                .onConnection(Examples::echoEveryStream)
                .start();
             NatEmulator nat = new NatEmulator(server.localAddress(), InetAddress.getLoopbackAddress())) {
            MigratingClient client = MigratingClient.builder()
                    .server(nat.address())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .idleTimeout(Duration.ofMinutes(5))
                    .connectTimeout(Duration.ofSeconds(30))
                    .build();
            long heapBefore = usedHeapAfterGc();
            List<MigratingConnection> connections = new ArrayList<>(count);
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                long connectStart = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    connections.add(client.connect());
                }
                double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
                long baselineCpu = processCpuNanos();
                long baselineStart = System.nanoTime();
                int failedBefore = echoAll(pool, connections, 1);
                double baselineWallMillis = (System.nanoTime() - baselineStart) / 1e6;
                double baselineCpuMillis = (processCpuNanos() - baselineCpu) / 1e6 / count;
                long heapPerConnection = (usedHeapAfterGc() - heapBefore) / count;
                System.out.printf(Locale.ROOT, "%d connections open in %.1f s (%d failed their first echo), %d NAT bindings%n",
                        count, connectSeconds, failedBefore, nat.bindings());

                completed.clear();
                long cpuBefore = processCpuNanos();
                Instant rebound = Instant.now();
                long start = System.nanoTime();
                nat.rebindAll();
                int failedAfter = echoAll(pool, connections, 2);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (completedAfter(completed, rebound) < count - failedAfter && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                double cpuMillisPerMigration = (processCpuNanos() - cpuBefore) / 1e6 / count;
                int validated = completedAfter(completed, rebound);
                double allValidatedMillis = lastCompletion(completed, rebound)
                        .map(last -> Duration.between(rebound, last).toNanos() / 1e6).orElse(Double.NaN);
                double wallMillis = (System.nanoTime() - start) / 1e6;

                System.out.printf(Locale.ROOT, "rebound all %d clients at once: %d validated by the server, last after %.0f ms"
                        + " (%.0f ms until every echo was back); %d connections failed%n", count, validated,
                        allValidatedMillis, wallMillis, failedAfter);
                System.out.printf(Locale.ROOT, "the same echo round without rebinding: %.0f ms, %.2f ms CPU per connection%n",
                        baselineWallMillis, baselineCpuMillis);
                System.out.printf(Locale.ROOT, "CPU per migration (both sides, including the echo): %.2f ms;"
                        + " heap per connection (both sides): %d KiB%n", cpuMillisPerMigration, heapPerConnection / 1024);
                String json = String.format(Locale.ROOT, "{\"connections\": %d, \"validated\": %d, \"failed\": %d,"
                                + " \"allValidatedMillis\": %.1f, \"cpuMillisPerMigration\": %.3f, \"heapBytesPerConnection\": %d,"
                                + " \"connectSeconds\": %.1f, \"baselineEchoMillis\": %.1f, \"baselineCpuMillisPerConnection\": %.3f,"
                                + " \"cores\": %d, \"java\": \"%s\"}%n", count, validated, failedAfter,
                        allValidatedMillis, cpuMillisPerMigration, heapPerConnection, connectSeconds, baselineWallMillis,
                        baselineCpuMillis,
                        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
                Path out = Path.of("target", "server-scale.json");
                Files.createDirectories(out.getParent());
                Files.writeString(out, json, StandardCharsets.UTF_8);
                System.out.println("raw results: " + out.toAbsolutePath());
                if (failedBefore > 0 || failedAfter > 0 || validated < count) {
                    System.out.println("FAILED: not every connection survived the rebinding");
                    System.exit(1);
                }
            } finally {
                pool.shutdownNow();
                for (MigratingConnection connection : connections) {
                    connection.close();
                }
            }
        }
    }

    /** Echoes 1 KiB on every connection (16 at a time), checking the digest; returns how many failed. */
    private static int echoAll(ExecutorService pool, List<MigratingConnection> connections, long seed) throws Exception {
        List<Future<Boolean>> results = new ArrayList<>();
        for (MigratingConnection connection : connections) {
            results.add(pool.submit(() -> echo(connection, seed)));
        }
        int failed = 0;
        for (Future<Boolean> result : results) {
            try {
                if (!result.get(90, TimeUnit.SECONDS)) {
                    failed++;
                    if (failed <= 3) {
                        System.out.println("echo corrupted");
                    }
                }
            } catch (Exception e) {
                failed++;
                if (failed <= 3) {
                    System.out.println("echo failed: " + (e.getCause() != null ? e.getCause() : e));
                }
            }
        }
        return failed;
    }

    private static boolean echo(MigratingConnection connection, long seed) throws Exception {
        byte[] data = new byte[1024];
        new Random(seed).nextBytes(data);
        BidirectionalStream stream = connection.openStream();
        try (OutputStream out = stream.getOutputStream(); InputStream in = stream.getInputStream()) {
            out.write(data);
            out.close();
            byte[] back = in.readAllBytes();
            return MessageDigest.isEqual(sha256(back), sha256(data));
        }
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    private static int completedAfter(List<MigrationEvent> events, Instant since) {
        synchronized (events) {
            return (int) events.stream().filter(e -> !e.time().isBefore(since)).map(e -> e.path().remote()).distinct().count();
        }
    }

    private static java.util.Optional<Instant> lastCompletion(List<MigrationEvent> events, Instant since) {
        synchronized (events) {
            return events.stream().map(MigrationEvent::time).filter(t -> !t.isBefore(since)).max(Instant::compareTo);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
