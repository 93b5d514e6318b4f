package org.quicmigration.examples;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationPolicy;
import org.quicmigration.NetworkMonitor;
import org.quicmigration.StandbyPath;
import org.quicmigration.netlab.NetworkLab;

/**
 * Real network changes, measured: the longest pause in received data from the moment the Wi-Fi goes, in the
 * {@link NetworkLab} topology with a delay added each way (a userspace relay in the server's namespace, as this
 * kernel has no netem). No application code reacts on the QUIC side: the default {@link MigrationPolicy} and
 * {@link NetworkMonitor#system()} do. The rival is TCP + TLS 1.3 that reconnects and resumes on its own detection: the
 * same system monitor telling it its address went, or a read timeout of 1 s; it is told to reconnect on cellular
 * (its best case). Two changes:
 * <ul>
 * <li>{@code address removed}: {@code ip addr del} of the Wi-Fi address;</li>
 * <li>{@code black hole}: the far end of the Wi-Fi link drops everything, silently (nftables at the device).</li>
 * </ul>
 * Each change is measured twice for QUIC: as it comes, and with a standby path kept on cellular
 * ({@link MigratingConnection#addStandbyPath}), which the policy's move then switches to at once.
 * The pause includes the few milliseconds the {@code ip}/{@code nft} command takes. The ways take turns in each
 * run; medians, ranges and ratios are printed and written to {@code target/network-change-benchmark.json}, with
 * the received bytes over time around the change of each way's median run, and {@link Charts} draws them next to
 * it. Needs root and nftables; where they are missing it prints SKIPPED and exits 0. Exits 1 if a download differs.
 *
 * <pre>./run-example NetworkChangeBenchmark 7 25</pre>
 * <pre>./run-example NetworkChangeBenchmark timeline 25 [address-removed|black-hole] [standby]</pre>
 */
public final class NetworkChangeBenchmark {

    private static final int BLOCK = 64 * 1024;
    private static final int TCP_READ_TIMEOUT_MS = 1_000;

    private NetworkChangeBenchmark() {
    }

    private enum Change { ADDRESS_REMOVED, BLACK_HOLE }

    private interface Way {
        Handovers.Download run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        boolean timeline = args.length > 0 && args[0].equals("timeline");
        int runs = timeline ? 1 : args.length > 0 ? Integer.parseInt(args[0]) : 7;
        long delay = args.length > 1 ? Long.parseLong(args[1]) : 25;
        String unavailable = NetworkLab.unavailableReason();
        if (unavailable == null && !NetworkLab.hasNftables()) {
            unavailable = "nftables (nft) is missing";
        }
        if (unavailable != null) {
            System.out.println("SKIPPED: NetworkChangeBenchmark cannot run here: " + unavailable);
            System.exit(0);
        }
        byte[] expected = Handovers.expectedDigest();
        boolean intact = true;
        StringBuilder json = new StringBuilder("[\n");
        try (NetworkLab lab = NetworkLab.create()) {
            java.nio.file.Path serverTrace = java.nio.file.Path.of("target", "network-change-server-trace.txt")
                    .toAbsolutePath();
            Process relays = timeline
                    ? lab.startInServer(LabRelays.class, lab.serverAddress().getHostAddress(), String.valueOf(delay),
                            serverTrace.toString())
                    : lab.startInServer(LabRelays.class, lab.serverAddress().getHostAddress(), String.valueOf(delay));
            String[] ready = readReady(relays);
            Bench bench = new Bench(lab, Integer.parseInt(ready[1]), Integer.parseInt(ready[2]), certificate(ready[3]));
            if (timeline) {
                Change change = args.length > 2 && args[2].equals("black-hole") ? Change.BLACK_HOLE : Change.ADDRESS_REMOVED;
                boolean standby = args.length > 3 && args[3].equals("standby");
                bench.quic(change, standby, null); // warm-up
                HandoverTimeline trace = new HandoverTimeline();
                Handovers.Download download = bench.quic(change, standby, trace);
                System.out.printf(Locale.ROOT, "%s at %d ms each way: longest pause %.1f ms, digest %s%n", change, delay,
                        download.interruptionMillis(), Arrays.equals(expected, download.digest()) ? "intact" : "WRONG");
                List<String> lines = trace.lines(50, 2_000);
                java.nio.file.Files.createDirectories(serverTrace.getParent());
                java.nio.file.Files.write(serverTrace.resolveSibling("network-change-timeline.txt"), lines);
                relays.getOutputStream().close(); // the relays stop and write the server's trace
                relays.waitFor(10, TimeUnit.SECONDS);
                List<String> server = java.nio.file.Files.exists(serverTrace)
                        ? java.nio.file.Files.readAllLines(serverTrace) : List.of();
                lines.addAll(trace.serverLines(server, 50, 2_000));
                lines.sort(java.util.Comparator.comparingDouble(line -> Double.parseDouble(line.substring(0, 9).trim())));
                lines.forEach(System.out::println);
                java.nio.file.Files.write(serverTrace.resolveSibling("network-change-timeline.txt"), lines);
                System.exit(Arrays.equals(expected, download.digest()) ? 0 : 1);
            }
            Map<String, Way> ways = new LinkedHashMap<>();
            ways.put("quic, address removed", () -> bench.quic(Change.ADDRESS_REMOVED, false, null));
            ways.put("quic standby, address removed", () -> bench.quic(Change.ADDRESS_REMOVED, true, null));
            ways.put("tcp+tls, address removed", () -> bench.tcp(Change.ADDRESS_REMOVED));
            ways.put("quic, black hole", () -> bench.quic(Change.BLACK_HOLE, false, null));
            ways.put("quic standby, black hole", () -> bench.quic(Change.BLACK_HOLE, true, null));
            ways.put("tcp+tls, black hole", () -> bench.tcp(Change.BLACK_HOLE));
            Map<String, double[]> results = new LinkedHashMap<>();
            Map<String, Handovers.Download[]> downloads = new LinkedHashMap<>();
            ways.keySet().forEach(name -> results.put(name, new double[runs]));
            ways.keySet().forEach(name -> downloads.put(name, new Handovers.Download[runs]));
            bench.quic(Change.ADDRESS_REMOVED, false, null); // warm-up
            for (int run = 0; run < runs; run++) {
                for (Map.Entry<String, Way> way : ways.entrySet()) {
                    Handovers.Download download = way.getValue().run();
                    intact &= Arrays.equals(expected, download.digest());
                    results.get(way.getKey())[run] = download.interruptionMillis();
                    downloads.get(way.getKey())[run] = download;
                }
            }
            System.out.printf("network change: longest pause in received data from the change on; %d runs at %d ms "
                    + "each way, median (range) in ms; %d MiB download, change after %d MiB%n", runs, delay,
                    Handovers.TOTAL >> 20, Handovers.CHANGE_AT >> 20);
            System.out.printf("%-28s %26s %12s%n", "way", "pause ms", "tcp / quic");
            for (Map.Entry<String, double[]> result : results.entrySet()) {
                double median = median(result.getValue());
                String rival = result.getKey().replaceFirst("^quic( standby)?", "tcp+tls");
                String ratio = result.getKey().startsWith("quic")
                        ? String.format(Locale.ROOT, "%.2f", median(results.get(rival)) / median) : "";
                double[] sorted = result.getValue().clone();
                Arrays.sort(sorted);
                System.out.printf(Locale.ROOT, "%-28s %11.1f (%6.1f-%6.1f) %12s%n", result.getKey(), median,
                        sorted[0], sorted[sorted.length - 1], ratio);
                json.append(String.format(Locale.ROOT, "  {\"way\": \"%s\", \"oneWayDelayMs\": %d, \"stallMs\": %s, %s},%n",
                        result.getKey(), delay, Arrays.toString(result.getValue()),
                        Handovers.receivedJson(downloads.get(result.getKey()))));
            }
        }
        Charts.writeFor(Examples.writeResults(json, "network-change-benchmark.json"));
        if (!intact) {
            System.out.println("FAILED: a download differed from what the server sent");
            System.exit(1);
        }
        System.exit(0);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String[] readReady(Process relays) throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(relays.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.startsWith("READY ")) {
                return line.split(" ");
            }
            seen.append(line).append('\n');
        }
        throw new IOException("the relays in the server namespace did not start: " + seen);
    }

    private static X509Certificate certificate(String base64) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(Base64.getDecoder().decode(base64)));
    }

    /** The two clients and the changes, over one lab. */
    private static final class Bench {
        private final NetworkLab lab;
        private final InetSocketAddress quicServer;
        private final InetSocketAddress tcpServer;
        private final X509Certificate certificate;
        private final SSLContext tls;

        Bench(NetworkLab lab, int quicPort, int tcpPort, X509Certificate certificate) throws Exception {
            this.lab = lab;
            this.quicServer = new InetSocketAddress(lab.serverAddress(), quicPort);
            this.tcpServer = new InetSocketAddress(lab.serverAddress(), tcpPort);
            this.certificate = certificate;
            this.tls = TlsServer.clientContext(certificate);
        }

        private void change(Change change) throws IOException {
            if (change == Change.ADDRESS_REMOVED) {
                lab.removeWifiAddress();
            } else {
                lab.blackHoleWifi();
            }
        }

        /**
         * A QUIC download with the change, with a standby path on cellular or not; {@code timeline}, if not null,
         * records what the client saw.
         */
        Handovers.Download quic(Change change, boolean standby, HandoverTimeline timeline) throws Exception {
            DownloadWatch watch = new DownloadWatch();
            MigratingClient.Builder builder = MigratingClient.builder()
                    .server(quicServer)
                    .serverName("localhost")
                    .applicationProtocol(Handovers.PROTOCOL)
                    .pinnedCertificate(certificate)
                    .localAddress(new InetSocketAddress(lab.wifiAddress(), 0))
                    .migrationPolicy(MigrationPolicy.builder()
                            .preferInterfaces(lab.wifiInterface(), lab.cellInterface()).build());
            if (timeline != null) {
                builder.packetListener(timeline::packet);
            }
            MigratingClient client = builder.build();
            try (MigratingConnection connection = client.connect()) {
                if (timeline != null) {
                    connection.addMigrationListener(timeline::migration);
                }
                Examples.awaitSpareConnectionId(connection);
                if (standby) {
                    StandbyPath path = connection.addStandbyPath(new InetSocketAddress(lab.cellAddress(), 0));
                    if (!path.awaitReady(java.time.Duration.ofSeconds(5))) {
                        throw new IOException("the standby on cellular did not answer: " + path);
                    }
                }
                BidirectionalStream stream = connection.openStream();
                try (DataOutputStream out = new DataOutputStream(stream.getOutputStream())) {
                    out.writeLong(0);
                }
                byte[] buffer = new byte[BLOCK];
                try (InputStream in = stream.getInputStream()) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        watch.data(buffer, n);
                        if (timeline != null) {
                            timeline.read(n, watch.received());
                        }
                        if (watch.changeDue()) {
                            watch.changed();
                            if (timeline != null) {
                                timeline.changed();
                            }
                            change(change);
                        }
                    }
                }
            } finally {
                lab.restoreAll();
            }
            if (watch.received() != Handovers.TOTAL) {
                throw new IOException("QUIC download (" + change + ") ended after " + watch.received() + " bytes");
            }
            return watch.result();
        }

        Handovers.Download tcp(Change change) throws Exception {
            DownloadWatch watch = new DownloadWatch();
            byte[] buffer = new byte[BLOCK];
            InetAddress local = lab.wifiAddress();
            NetworkMonitor monitor = NetworkMonitor.system();
            try {
                while (watch.received() < Handovers.TOTAL) {
                    try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket()) {
                        socket.bind(new InetSocketAddress(local, 0));
                        socket.connect(tcpServer, 5_000);
                        socket.setTcpNoDelay(true);
                        socket.setSoTimeout(TCP_READ_TIMEOUT_MS);
                        socket.setEnabledProtocols(new String[]{"TLSv1.3"});
                        InetAddress bound = local;
                        // The application's own detection: the system says the address went.
                        NetworkMonitor.Subscription gone = monitor.subscribe(() -> {
                            if (monitor.networks().stream().noneMatch(network -> network.address().equals(bound))) {
                                closeQuietly(socket);
                            }
                        });
                        try {
                            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                            out.writeLong(watch.received());
                            out.flush();
                            InputStream in = socket.getInputStream();
                            int n;
                            while (watch.received() < Handovers.TOTAL
                                    && (n = in.read(buffer, 0, (int) Math.min(BLOCK, Handovers.TOTAL - watch.received()))) > 0) {
                                watch.data(buffer, n);
                                if (watch.changeDue()) {
                                    watch.changed();
                                    change(change);
                                }
                            }
                        } finally {
                            gone.cancel();
                        }
                    } catch (SocketTimeoutException e) {
                        local = lab.cellAddress(); // no data for a second: try the other network
                    } catch (IOException e) {
                        if (!watch.hasChanged()) {
                            throw e; // failed before the change: a real error
                        }
                        local = lab.cellAddress();
                    }
                }
            } finally {
                lab.restoreAll();
            }
            return watch.result();
        }

        private static void closeQuietly(SSLSocket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
