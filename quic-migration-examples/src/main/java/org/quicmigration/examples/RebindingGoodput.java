package org.quicmigration.examples;

import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;

/**
 * Goodput while a NAT keeps rebinding the client: a download (default 50 MiB) through an emulated NAT that gives
 * the client a new port every 1 s, 300 ms or 100 ms, against the same download without rebinding, at 0 ms and
 * 25 ms added one-way delay. The server follows each new port (RFC 9000 9.3). Two servers take part: ours
 * ({@link MigrationServer}) and Netty QUIC's (quiche inside, {@link NettyDownloadServer}), both downloaded from
 * by our client; each is compared with its own goodput without rebinding. The cases take turns within each run;
 * medians are printed with the fraction of the same server's no-rebinding goodput, and written to
 * {@code target/rebinding-goodput.json}; {@link Charts} draws them next to it, against RFC 9000's ceiling. Every
 * download is checked against its SHA-256; exits 1 if one differs, or if a download from our server breaks off
 * (one from Netty's counts as 0 MB/s).
 *
 * <pre>./run-example RebindingGoodput 50 3</pre>
 *
 * Arguments: MiB per download, runs, and optionally the delays in ms (comma-separated, default 0,25), the
 * rebinding intervals in ms (default 1000,300,100) and the servers (default {@code ours,netty}). A download that has not finished after
 * {@value #DEADLINE_SECONDS} s is abandoned and counts as 0 MB/s.
 */
public final class RebindingGoodput {

    /** A download that takes longer than this is abandoned and counted as 0 MB/s. */
    private static final long DEADLINE_SECONDS = 60;

    private RebindingGoodput() {
    }

    public static void main(String[] args) throws Exception {
        int mebibytes = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long[] delays = args.length > 2 ? Arrays.stream(args[2].split(",")).mapToLong(Long::parseLong).toArray()
                : new long[]{0, 25};
        long[] intervals = args.length > 3
                ? java.util.stream.LongStream.concat(java.util.stream.LongStream.of(0),
                        Arrays.stream(args[3].split(",")).mapToLong(Long::parseLong)).toArray()
                : new long[]{0, 1000, 300, 100}; // 0: no rebinding, the baseline
        java.util.List<String> stacks = args.length > 4 ? java.util.List.of(args[4].split(","))
                : java.util.List.of("ours", "netty");
        long size = (long) mebibytes << 20;
        boolean intact = true;
        StringBuilder json = new StringBuilder("[\n");
        System.out.printf("goodput of a %d MiB download while the NAT rebinds the client; %d runs, medians%n", mebibytes, runs);
        System.out.printf("%-8s %-10s %-16s %12s %12s %10s%n", "server", "delay", "rebinding every", "MB/s",
                "of no-rebind", "rebinds");
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "nat-rebinder");
            thread.setDaemon(true);
            return thread;
        });
        org.quicmigration.ServerCertificate certificate = org.quicmigration.ServerCertificate.selfSigned("localhost");
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .certificate(certificate)
                .applicationProtocol(DemoServer.PROTOCOL)
                .onConnection(RebindingGoodput::serve)
                .start();
             NettyDownloadServer netty = new NettyDownloadServer(certificate, DemoServer.PROTOCOL)) {
            for (long delay : delays) {
              for (String stack : stacks) {
                double[][] goodput = new double[intervals.length][runs];
                int[][] rebinds = new int[intervals.length][runs];
                for (int run = 0; run < runs; run++) {
                    for (int i = 0; i < intervals.length; i++) {
                        AtomicInteger count = new AtomicInteger();
                        double[] result;
                        InetSocketAddress target = stack.equals("netty") ? netty.localAddress() : server.localAddress();
                        result = download(target, certificate, delay, intervals[i], size, timer, count);
                        // Our own server must finish every download intact; the rival's broken-off downloads count
                        // as 0 MB/s (a mismatch fails the run for either).
                        intact &= result != null && (stack.equals("netty") || result.length == 1 || result[1] == 1);
                        goodput[i][run] = result == null ? 0 : result[0];
                        if (result != null && result.length > 1 && result[1] == 1) {
                            System.out.printf("(a download from %s with rebinding every %d ms at %d ms did not finish within %d s)%n",
                                    stack, intervals[i], delay, DEADLINE_SECONDS);
                        }
                        rebinds[i][run] = count.get();
                    }
                }
                double baseline = median(goodput[0]);
                for (int i = 0; i < intervals.length; i++) {
                    double median = median(goodput[i]);
                    String every = intervals[i] == 0 ? "never" : intervals[i] + " ms";
                    System.out.printf(Locale.ROOT, "%-8s %-10s %-16s %12.1f %11.0f%% %10d%n", stack, delay + " ms", every,
                            median, 100 * median / baseline, rebinds[i][0]);
                    json.append(String.format(Locale.ROOT,
                            "  {\"server\": \"%s\", \"oneWayDelayMs\": %d, \"rebindEveryMs\": %d, \"mebibytes\": %d, \"goodputMBps\": %s, \"rebinds\": %s},%n",
                            stack, delay, intervals[i], mebibytes, Arrays.toString(goodput[i]), Arrays.toString(rebinds[i])));
                }
              }
            }
        } finally {
            timer.shutdownNow();
        }
        Charts.writeFor(Examples.writeResults(json, "rebinding-goodput.json"));
        if (!intact) {
            System.out.println("FAILED: a download differed or broke off");
            System.exit(1);
        }
    }

    /**
     * One download on a new connection: {goodput in MB/s}; {0, 1} if abandoned at the deadline; null if it
     * differed or broke off.
     */
    private static double[] download(InetSocketAddress server, org.quicmigration.ServerCertificate certificate,
                                     long delayMillis, long rebindEveryMillis, long size,
                                     ScheduledExecutorService timer, AtomicInteger rebinds) throws Exception {
        try (NetworkEmulator nat = NetworkEmulator.builder(server).delay(Duration.ofMillis(delayMillis)).start();
             MigratingConnection connection = MigratingClient.builder()
                     .server(nat.address())
                     .serverName("localhost")
                     .applicationProtocol(DemoServer.PROTOCOL)
                     .pinnedCertificate(certificate.certificate())
                     .build().connect()) {
            BidirectionalStream stream = connection.openStream();
            try (DataOutputStream out = new DataOutputStream(stream.getOutputStream())) {
                out.writeLong(size);
            }
            var rebinding = rebindEveryMillis == 0 ? null : timer.scheduleAtFixedRate(() -> {
                nat.rebindAll();
                rebinds.incrementAndGet();
            }, rebindEveryMillis, rebindEveryMillis, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicBoolean overdue = new java.util.concurrent.atomic.AtomicBoolean();
            var deadline = timer.schedule(() -> {
                overdue.set(true);
                connection.close(); // bounded: the read below ends with the connection
            }, DEADLINE_SECONDS, TimeUnit.SECONDS);
            try (InputStream in = stream.getInputStream()) {
                byte[] expected = in.readNBytes(32);
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                byte[] buffer = new byte[64 * 1024];
                long received = 0;
                int n;
                try {
                    while ((n = in.read(buffer)) >= 0) {
                        digest.update(buffer, 0, n);
                        received += n;
                    }
                } catch (java.io.IOException e) {
                    if (overdue.get()) {
                        return new double[]{0, 1}; // abandoned at the deadline
                    }
                    System.out.println("download broke off: " + e);
                    return new double[]{0, 2}; // broke off: counted as 0

                }
                double seconds = (System.nanoTime() - start) / 1e9;
                boolean ok = received == size && MessageDigest.isEqual(expected, digest.digest());
                return ok ? new double[]{size / 1e6 / seconds} : null;
            } finally {
                deadline.cancel(false);
                if (rebinding != null) {
                    rebinding.cancel(false);
                }
            }
        }
    }

    /** A server connection handler of {@link DemoServer}'s protocol: one download per stream, until the client is done. */
    static void serve(MigratingConnection connection) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                long size;
                try (InputStream in = stream.getInputStream()) {
                    size = new java.io.DataInputStream(in).readLong();
                    in.readAllBytes(); // to the end, so closing sends no STOP_SENDING
                }
                DemoServer.send(stream, Math.min(size, DemoServer.MAX_DOWNLOAD));
            }
        } catch (Exception e) {
            // the client is done
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
