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

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;

/**
 * Server scale under NAT rebinding: one server keeps N connections (default 200; docs/performance.md reports 1,000 and 5,000),
 * every client behind one {@link NatEmulator} that rebinds all of them at the same moment. Each client then sends a
 * small echo, which shows the server its new address; the server must validate every new address and carry on.
 * Reports the time until the server validated all of them, the process CPU time per migration, the heap per
 * connection, and how many connections failed; writes {@code target/server-scale.json}.
 *
 * <p>Client and server share this JVM, so CPU and heap include both sides of every connection. The clients are ours
 * ({@link MigratingClient}, the default) or, with a second argument {@code netty}, Netty QUIC's (quiche inside,
 * {@link NettyEchoClients}): a Kwik client runs about three threads, and the machine's task limit
 * ({@code kernel.pid_max}) then ends the run near 5,000 connections before the server is the limit; Netty's clients
 * share two threads. Their native (quiche) memory is not in the heap figure.
 *
 * <pre>./run-example ServerScaleBenchmark 1000</pre>
 *
 * Arguments: connections (default 200), clients ({@code ours} or {@code netty}, default {@code ours}).
 */
public final class ServerScaleBenchmark {

    private static final String PROTOCOL = "scale";

    private ServerScaleBenchmark() {
    }

    /** One client connection of the benchmark, whichever stack it runs on. */
    private interface EchoClient {
        /** Echoes 1 KiB made from {@code seed} on a new stream; true if it came back intact. */
        boolean echo(long seed) throws Exception;

        void close();
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        boolean nettyClients = args.length > 1 && args[1].equals("netty");
        if (args.length > 1 && !nettyClients && !args[1].equals("ours")) {
            System.err.println("usage: ServerScaleBenchmark [connections] [ours|netty]");
            System.exit(2);
        }
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
                // Connecting thousands of clients takes minutes, and a connection's first stream comes only once
                // all are open: the server's handler waits long for it.
                .onConnection(connection -> Examples.echoEveryStream(connection, Duration.ofMinutes(10)))
                .start();
             NatEmulator nat = new NatEmulator(server.localAddress(), InetAddress.getLoopbackAddress());
             NettyEchoClients netty = nettyClients ? new NettyEchoClients(server.certificate().certificate(), PROTOCOL,
                     nat.address()) : null) {
            MigratingClient client = MigratingClient.builder()
                    .server(nat.address())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate())
                    .idleTimeout(Duration.ofMinutes(10))
                    .connectTimeout(Duration.ofSeconds(30))
                    .build();
            long heapBefore = usedHeapAfterGc();
            List<EchoClient> connections = new ArrayList<>(count);
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                long connectStart = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    connections.add(netty != null ? nettyClient(netty.connect(30)) : ourClient(client.connect()));
                }
                double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
                long baselineCpu = processCpuNanos();
                long baselineStart = System.nanoTime();
                int failedBefore = echoAll(pool, connections, 1);
                double baselineWallMillis = (System.nanoTime() - baselineStart) / 1e6;
                double baselineCpuMillis = (processCpuNanos() - baselineCpu) / 1e6 / count;
                long heapPerConnection = (usedHeapAfterGc() - heapBefore) / count;
                int threads = ManagementFactory.getThreadMXBean().getThreadCount();
                System.out.printf(Locale.ROOT, "%d connections from %s clients open in %.1f s (%d failed their first echo),"
                        + " %d NAT bindings, %d threads in this process%n", count, nettyClients ? "Netty (quiche)" : "our",
                        connectSeconds, failedBefore, nat.bindings(), threads);

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
                String json = String.format(Locale.ROOT, "{\"connections\": %d, \"clients\": \"%s\", \"validated\": %d, \"failed\": %d,"
                                + " \"allValidatedMillis\": %.1f, \"cpuMillisPerMigration\": %.3f, \"heapBytesPerConnection\": %d,"
                                + " \"connectSeconds\": %.1f, \"baselineEchoMillis\": %.1f, \"baselineCpuMillisPerConnection\": %.3f,"
                                + " \"threads\": %d, \"cores\": %d, \"java\": \"%s\"}%n", count, nettyClients ? "netty" : "ours", validated,
                        failedAfter,
                        allValidatedMillis, cpuMillisPerMigration, heapPerConnection, connectSeconds, baselineWallMillis,
                        baselineCpuMillis, threads,
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
                for (EchoClient connection : connections) {
                    connection.close();
                }
            }
        }
    }

    private static EchoClient ourClient(MigratingConnection connection) {
        return new EchoClient() {
            @Override
            public boolean echo(long seed) throws Exception {
                return ServerScaleBenchmark.echo(connection, seed);
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    private static EchoClient nettyClient(NettyEchoClients.Client client) {
        return new EchoClient() {
            @Override
            public boolean echo(long seed) throws Exception {
                byte[] data = echoData(seed);
                byte[] back = client.echo(data).get(60, TimeUnit.SECONDS);
                return MessageDigest.isEqual(sha256(back), sha256(data));
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    /** Echoes 1 KiB on every connection (16 at a time), checking the digest; returns how many failed. */
    private static int echoAll(ExecutorService pool, List<EchoClient> connections, long seed) throws Exception {
        List<Future<Boolean>> results = new ArrayList<>();
        for (EchoClient connection : connections) {
            results.add(pool.submit(() -> connection.echo(seed)));
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

    private static byte[] echoData(long seed) {
        byte[] data = new byte[1024];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static boolean echo(MigratingConnection connection, long seed) throws Exception {
        byte[] data = echoData(seed);
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
