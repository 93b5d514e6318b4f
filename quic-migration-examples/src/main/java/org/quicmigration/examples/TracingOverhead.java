package org.quicmigration.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;

/**
 * What packet tracing costs: a digest-checked echo of N MiB over loopback with tracing off, with a packet listener
 * on the client, and with qlog on both sides; per mode, the median over several runs of the time, the process
 * CPU time and the bytes allocated by all threads, per MiB echoed; the raw runs go to
 * {@code target/tracing-overhead.json}. Exits 1 if an echo came back wrong or a qlog file is missing.
 *
 * <pre>./run-example TracingOverhead 64 3</pre>
 *
 * A third argument picks one mode ({@code off}, {@code listener}, {@code qlog}), for a run under a profiler.
 */
public final class TracingOverhead {

    private static final String PROTOCOL = "tracing-overhead";
    private static final int CHUNK = 64 * 1024;

    private enum Mode { OFF, LISTENER, QLOG }

    private record Sample(double millis, double cpuMillis, double allocatedBytes, long packets) {
    }

    private TracingOverhead() {
    }

    public static void main(String[] args) throws Exception {
        int mebibytes = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        List<Mode> modes = args.length > 2 ? List.of(Mode.valueOf(args[2].toUpperCase(Locale.ROOT))) : List.of(Mode.values());
        System.out.printf("%-10s %5s %10s %10s %14s %16s%n", "tracing", "runs", "ms/MiB", "CPU ms/MiB",
                "alloc KiB/MiB", "packets traced");
        run(Mode.OFF, 4, 1); // warm-up: JIT, class loading, certificate generation
        boolean ok = true;
        StringBuilder json = new StringBuilder("[\n");
        for (Mode mode : modes) {
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Sample sample = run(mode, mebibytes, i);
                if (sample == null) {
                    ok = false;
                    break;
                }
                samples.add(sample);
                json.append(String.format(Locale.ROOT, "  {\"tracing\": \"%s\", \"run\": %d, \"mebibytes\": %d, "
                                + "\"millis\": %.1f, \"cpuMillis\": %.1f, \"allocatedBytes\": %.0f, \"packetsTraced\": %d},%n",
                        mode.name().toLowerCase(Locale.ROOT), i, mebibytes, sample.millis(), sample.cpuMillis(),
                        sample.allocatedBytes(), sample.packets()));
            }
            if (samples.isEmpty()) {
                continue;
            }
            System.out.printf(Locale.ROOT, "%-10s %5d %10.2f %10.2f %14.0f %16d%n", mode.name().toLowerCase(Locale.ROOT),
                    samples.size(), median(samples, Sample::millis) / mebibytes, median(samples, Sample::cpuMillis) / mebibytes,
                    median(samples, Sample::allocatedBytes) / mebibytes / 1024, samples.get(0).packets());
        }
        if (json.length() > 2) {
            Examples.writeResults(json, "tracing-overhead.json");
        }
        System.exit(ok ? 0 : 1);
    }

    /** One echo of {@code mebibytes} MiB on a fresh server and connection; null if it failed. */
    private static Sample run(Mode mode, int mebibytes, int seed) throws Exception {
        Path qlog = mode == Mode.QLOG ? Files.createTempDirectory("tracing-overhead") : null;
        AtomicLong packets = new AtomicLong();
        MigrationServer.Builder serverBuilder = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .onConnection(Examples::echoEveryStream);
        if (qlog != null) {
            serverBuilder.qlogDirectory(qlog);
        }
        try (MigrationServer server = serverBuilder.start()) {
            MigratingClient.Builder clientBuilder = MigratingClient.builder()
                    .server(server.localAddress())
                    .serverName("localhost")
                    .applicationProtocol(PROTOCOL)
                    .pinnedCertificate(server.certificate().certificate());
            if (mode == Mode.LISTENER) {
                clientBuilder.packetListener(packet -> packets.incrementAndGet());
            } else if (qlog != null) {
                clientBuilder.qlogDirectory(qlog);
            }
            try (MigratingConnection connection = clientBuilder.build().connect()) {
                long allocatedBefore = allocatedByAllThreads();
                long cpuBefore = processCpuNanos();
                long start = System.nanoTime();
                boolean same = echo(connection, mebibytes, seed);
                long millis = System.nanoTime() - start;
                long cpu = processCpuNanos() - cpuBefore;
                long allocated = allocatedByAllThreads() - allocatedBefore;
                if (!same) {
                    System.out.println("FAILED: the echo differs from what was sent (" + mode + ")");
                    return null;
                }
                if (qlog != null && connection.qlogFile().isEmpty()) {
                    System.out.println("FAILED: no qlog file");
                    return null;
                }
                return new Sample(millis / 1e6, cpu / 1e6, allocated, packets.get());
            }
        } finally {
            if (qlog != null) {
                // The files exist from connection start; the writer thread may still hold them open, which Linux
                // allows to be deleted.
                try (var files = Files.list(qlog)) {
                    for (Path file : files.toList()) {
                        Files.deleteIfExists(file);
                    }
                }
                Files.deleteIfExists(qlog);
            }
        }
    }

    /** Sends {@code mebibytes} MiB of seeded random bytes and reads the echo; true if its SHA-256 matches. */
    private static boolean echo(MigratingConnection connection, int mebibytes, int seed) throws Exception {
        BidirectionalStream stream = connection.openStream();
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest received = MessageDigest.getInstance("SHA-256");
        Thread writer = new Thread(() -> {
            Random random = new Random(seed);
            byte[] chunk = new byte[CHUNK];
            try (OutputStream out = stream.getOutputStream()) {
                for (long left = (long) mebibytes << 20; left > 0; left -= CHUNK) {
                    random.nextBytes(chunk);
                    int n = (int) Math.min(CHUNK, left);
                    sent.update(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            } catch (IOException e) {
                // the reader sees the short echo
            }
        }, "tracing-overhead-writer");
        writer.start();
        byte[] buffer = new byte[CHUNK];
        try (InputStream in = stream.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                received.update(buffer, 0, n);
            }
        }
        writer.join();
        return Arrays.equals(sent.digest(), received.digest());
    }

    private static long allocatedByAllThreads() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long allocated : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            total += Math.max(0, allocated);
        }
        return total;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> value) {
        double[] values = samples.stream().mapToDouble(value).sorted().toArray();
        return values[values.length / 2];
    }
}
