package org.quicmigration.examples;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.quicmigration.Await;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationPolicy;
import org.quicmigration.netlab.DownloadServer;
import org.quicmigration.netlab.LabDownload;
import org.quicmigration.netlab.NetworkLab;

/**
 * A real network change, with no application code reacting: this machine gets a "Wi-Fi" and a "cellular" link (veth
 * pairs) to a server in a network namespace of its own; during a 48 MiB download the Wi-Fi address is removed, the
 * connection moves to cellular by itself, Wi-Fi comes back and the connection returns to it by itself. Prints every
 * event with its time, the longest pause in received data and the SHA-256 check; exits 1 if a byte differs or the
 * connection did not move, 2 if it cannot run here (it needs root and iproute2). Everything it creates is deleted at
 * the end, also on failure.
 *
 * <pre>sudo ./run-example NetworkChange</pre>
 */
public final class NetworkChange {

    private static final long SIZE = 48L << 20;

    private NetworkChange() {
    }

    public static void main(String[] args) throws Exception {
        String unavailable = NetworkLab.unavailableReason();
        if (unavailable != null) {
            System.out.println("NetworkChange cannot run here: " + unavailable + ". It builds network namespaces and"
                    + " veth links, which needs root and iproute2 (ip).");
            System.exit(2);
        }
        long start = System.nanoTime();
        boolean ok;
        try (NetworkLab lab = NetworkLab.create()) {
            print(start, "networks: Wi-Fi " + lab.wifiInterface() + " " + lab.wifiAddress().getHostAddress()
                    + ", cellular " + lab.cellInterface() + " " + lab.cellAddress().getHostAddress()
                    + "; server " + lab.serverAddress().getHostAddress() + " in its own namespace");
            Process server = lab.startInServer(DownloadServer.class, lab.serverAddress().getHostAddress());
            int port = readPort(server);
            MigratingClient client = MigratingClient.builder()
                    .server(new InetSocketAddress(lab.serverAddress(), port))
                    .serverName("netlab")
                    .applicationProtocol(DownloadServer.PROTOCOL)
                    .insecureTrustAnyCertificateForTesting()
                    .localAddress(new InetSocketAddress(lab.wifiAddress(), 0))
                    .migrationPolicy(MigrationPolicy.builder()
                            .preferInterfaces(lab.wifiInterface(), lab.cellInterface())
                            .build())
                    .build();
            try (MigratingConnection connection = client.connect()) {
                print(start, "connected on Wi-Fi        " + connection.path());
                connection.addMigrationListener(event -> print(start, describe(event)));
                LabDownload download = LabDownload.start(connection, SIZE);

                Await.until(() -> download.received() >= SIZE / 4, 30_000, "a quarter of the download");
                print(start, "network change: the Wi-Fi address is removed (ip addr del), "
                        + download.received() / 1024 + " KiB in");
                download.mark();
                lab.removeWifiAddress();
                Await.until(() -> connection.localAddress().getAddress().equals(lab.cellAddress()), 10_000,
                        "the connection on cellular");
                Await.until(() -> download.received() >= SIZE / 2, 30_000, "half of the download");
                print(start, "network change: Wi-Fi is back, " + download.received() / 1024 + " KiB in");
                lab.restoreWifiAddress();

                byte[] digest = download.digest().get(60, TimeUnit.SECONDS);
                boolean intact = Arrays.equals(digest, LabDownload.expectedDigest(SIZE));
                boolean home = connection.localAddress().getAddress().equals(lab.wifiAddress());
                print(start, String.format("download of %d MiB %s; longest pause after the first change %.1f ms",
                        SIZE >> 20, intact ? "sha-256 verified" : "CORRUPT", download.longestPauseMillis()));
                print(start, "same connection, now on  " + connection.path() + (home ? " (Wi-Fi again)" : ""));
                ok = intact && home;
            }
        }
        System.out.println(ok ? "OK: the connection followed the network away and back, every byte verified"
                : "FAILED: see above");
        System.exit(ok ? 0 : 1);
    }

    static int readPort(Process server) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null && System.nanoTime() < deadline) {
            if (line.startsWith("LISTENING ")) {
                return Integer.parseInt(line.substring("LISTENING ".length()).trim());
            }
            seen.append(line).append('\n');
        }
        throw new IllegalStateException("the server in the namespace did not start: " + seen);
    }

    private static String describe(MigrationEvent event) {
        if (event instanceof MigrationEvent.MigrationStarted started) {
            return "MigrationStarted          " + started.path() + " cause " + started.cause();
        }
        if (event instanceof MigrationEvent.PathFailed failed) {
            return "PathFailed                " + failed.path() + ": " + failed.reason();
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("PathValidated             %s in %.1f ms", validated.path(),
                    validated.roundTrip().toNanos() / 1e6);
        }
        return String.format("%-25s %s", event.getClass().getSimpleName(), event.path());
    }

    private static void print(long start, String line) {
        System.out.printf("%8.1f ms  %s%n", (System.nanoTime() - start) / 1e6, line);
    }
}
