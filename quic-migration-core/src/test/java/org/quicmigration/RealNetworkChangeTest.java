package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicmigration.netlab.DownloadServer;
import org.quicmigration.netlab.LabDownload;
import org.quicmigration.netlab.NetworkLab;

/**
 * Real network changes, not emulated ones: a client with a Wi-Fi and a cellular veth link to a server in another
 * network namespace ({@link NetworkLab}), while a download runs, checked by SHA-256. No application code reacts
 * unless a test says so: the {@link MigrationPolicy} and the {@link NetworkMonitor#system() system monitor} do.
 */
class RealNetworkChangeTest {

    private static final long SIZE = 24L << 20;
    private static final long CHANGE_AT = 4L << 20;
    private static final long DOWNLOAD_TIMEOUT_MS = 60_000;

    private static NetworkLab lab;
    private static Process server;
    private static int serverPort;

    private final List<MigrationEvent> events = new CopyOnWriteArrayList<>();
    private MigratingConnection connection;

    @BeforeAll
    static void buildNetworks() throws Exception {
        String unavailable = NetworkLab.unavailableReason();
        assumeTrue(unavailable == null, () -> "SKIPPED: real network change tests: " + unavailable);
        lab = NetworkLab.create();
        server = lab.startInServer(DownloadServer.class, lab.serverAddress().getHostAddress());
        serverPort = readPort(server);
    }

    @AfterAll
    static void deleteNetworks() {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void restore() throws IOException {
        if (connection != null) {
            connection.close();
        }
        if (lab != null) {
            lab.restoreAll();
        }
    }

    private static int readPort(Process process) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        java.util.concurrent.CompletableFuture<Integer> port = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                StringBuilder seen = new StringBuilder();
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("LISTENING ")) {
                        return Integer.parseInt(line.substring("LISTENING ".length()).trim());
                    }
                    seen.append(line).append('\n');
                }
                throw new IllegalStateException("the server exited: " + seen);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        return port.get(30, TimeUnit.SECONDS);
    }

    private MigratingClient.Builder client() {
        return MigratingClient.builder()
                .server(new InetSocketAddress(lab.serverAddress(), serverPort))
                .serverName("netlab")
                .applicationProtocol(DownloadServer.PROTOCOL)
                .insecureTrustAnyCertificateForTesting()
                .localAddress(new InetSocketAddress(lab.wifiAddress(), 0))
                .migrationPolicy(MigrationPolicy.builder().preferInterfaces(lab.wifiInterface(), lab.cellInterface()).build());
    }

    private MigratingConnection connect(MigratingClient.Builder builder) throws Exception {
        connection = builder.build().connect();
        connection.addMigrationListener(events::add);
        return connection;
    }

    private LabDownload downloadUntilChangePoint(long size) throws InterruptedException {
        LabDownload download = LabDownload.start(connection, size);
        Await.until(() -> download.received() >= CHANGE_AT || download.digest().isDone(), 20_000,
                "the first " + CHANGE_AT + " bytes on Wi-Fi");
        assertThat(download.digest()).as("download still running at the change").isNotDone();
        return download;
    }

    private void assertIntact(LabDownload download, long size) throws Exception {
        byte[] digest;
        try {
            digest = download.digest().get(DOWNLOAD_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            assertNoEngineTypes(e.getCause());
            throw new AssertionError("download failed; events " + events + "; " + connection.diagnostics().describeSendSide(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("download stalled at " + download.received() + " bytes; events " + events
                    + "; " + connection.diagnostics().describeSendSide());
        }
        assertThat(digest).as("SHA-256 of %d bytes; events %s", size, events).isEqualTo(LabDownload.expectedDigest(size));
        System.out.printf("longest pause after the change: %.1f ms; events %s%n", download.longestPauseMillis(), events);
    }

    private MigrationCause firstPolicyCause() {
        return events.stream().filter(e -> e instanceof MigrationEvent.MigrationStarted)
                .map(e -> ((MigrationEvent.MigrationStarted) e).cause()).findFirst().orElse(null);
    }

    static void assertNoEngineTypes(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(t.getClass().getName()).as("exception chain of %s", failure).doesNotStartWith("tech.kwik");
        }
    }

    @Test
    void wifiAddressRemovedMidDownloadConnectionMovesToCellularByItself() throws Exception {
        connect(client());
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.removeWifiAddress();

        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).as("events %s", events).isEqualTo(lab.cellAddress());
        MigrationCause cause = firstPolicyCause();
        assertThat(cause).isIn(MigrationCause.NETWORK_LOST, MigrationCause.WRITE_ERROR);
        if (cause == MigrationCause.WRITE_ERROR) {
            // The monitor may see the address go before anything is sent there; a write error is reported.
            assertThat(events).as("the failed path is reported").anyMatch(e -> e instanceof MigrationEvent.PathFailed);
        }
    }

    @Test
    void withThePolicysStandbyOnCellularTheMoveAfterTheWifiAddressIsRemovedNeedsNoValidation() throws Exception {
        connect(client().migrationPolicy(MigrationPolicy.builder().preferInterfaces(lab.wifiInterface(),
                lab.cellInterface()).keepStandby(true).build()));
        Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.StandbyPathChanged changed
                        && changed.state() == StandbyPath.State.READY
                        && changed.path().local().getAddress().equals(lab.cellAddress())), 10_000,
                "the policy keeps a ready standby on cellular; events " + events);
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.removeWifiAddress();

        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).as("events %s", events).isEqualTo(lab.cellAddress());
        int started = indexOf(MigrationEvent.MigrationStarted.class);
        int completed = indexOf(MigrationEvent.MigrationCompleted.class);
        assertThat(completed).as("the move completes; events %s", events).isGreaterThan(started);
        assertThat(events.subList(started, completed)).as("no challenge between the start and the end of the move")
                .noneMatch(MigrationEvent.PathValidationStarted.class::isInstance);
        assertThat(events).as("the standby was taken by the move").anyMatch(e ->
                e instanceof MigrationEvent.StandbyPathChanged changed && changed.state() == StandbyPath.State.IN_USE);
    }

    private int indexOf(Class<? extends MigrationEvent> type) {
        for (int i = 0; i < events.size(); i++) {
            if (type.isInstance(events.get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void wifiLinkDownMidDownloadConnectionMovesToCellularByItself() throws Exception {
        connect(client());
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.wifiLinkDown();

        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).as("events %s", events).isEqualTo(lab.cellAddress());
        assertThat(firstPolicyCause()).isIn(MigrationCause.NETWORK_LOST, MigrationCause.WRITE_ERROR);
    }

    @Test
    void silentBlackHoleOnWifiIsLeftForCellularAfterProbing() throws Exception {
        assumeTrue(NetworkLab.hasNftables(), "SKIPPED: the black hole needs nftables (apt-get install nftables)");
        connect(client());
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.blackHoleWifi();

        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).as("events %s", events).isEqualTo(lab.cellAddress());
        assertThat(firstPolicyCause()).isEqualTo(MigrationCause.PATH_DEGRADING);
    }

    @Test
    void serverWhoseSendsOnWifiAreRefusedKeepsTheConnectionWhileTheClientMoves() throws Exception {
        assumeTrue(NetworkLab.hasNftables(), "SKIPPED: the firewall needs nftables (apt-get install nftables)");
        connect(client());
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.refuseWifiAtServer();

        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).as("events %s", events).isEqualTo(lab.cellAddress());
        assertThat(firstPolicyCause()).isEqualTo(MigrationCause.PATH_DEGRADING);
    }

    @Test
    void connectionReturnsToWifiByItselfWhenItComesBack() throws Exception {
        connect(client());
        LabDownload first = downloadUntilChangePoint(SIZE / 2);
        lab.removeWifiAddress();
        assertIntact(first, SIZE / 2);
        assertThat(connection.localAddress().getAddress()).isEqualTo(lab.cellAddress());

        lab.restoreWifiAddress();
        Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted completed
                        && completed.path().local().getAddress().equals(lab.wifiAddress())), 10_000,
                () -> "the connection back on Wi-Fi; events " + events);

        assertThat(connection.localAddress().getAddress()).isEqualTo(lab.wifiAddress());
        assertThat(events).anyMatch(e -> e instanceof MigrationEvent.MigrationStarted started
                && started.cause() == MigrationCause.PREFERRED_NETWORK_BACK);
        LabDownload second = LabDownload.start(connection, SIZE / 2);
        assertIntact(second, SIZE / 2);
    }

    /**
     * With interfaces ranked by name, the return to Wi-Fi starts when its address is back, and its first probe finds
     * no route; without, the policy ranks by the kernel's choice of source toward the server, which the route moves.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "interfaces ranked by name: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void connectionReturnsToWifiWhenTheKernelRoutesOverItAfterItsAddressCameBack(boolean byName) throws Exception {
        connect(byName ? client() : client().migrationPolicy(MigrationPolicy.defaults()));
        LabDownload first = downloadUntilChangePoint(SIZE / 2);
        lab.removeWifiAddress();
        assertIntact(first, SIZE / 2);
        assertThat(connection.localAddress().getAddress()).isEqualTo(lab.cellAddress());

        // The address first, seen by the monitor (its listeners are called in order: the connection's, then this);
        // the route a moment later, as DHCP gives them.
        java.util.concurrent.CountDownLatch seen = new java.util.concurrent.CountDownLatch(1);
        NetworkMonitor.Subscription watch = NetworkMonitor.system().subscribe(() -> {
            if (NetworkMonitor.system().networks().stream().anyMatch(n -> n.address().equals(lab.wifiAddress()))) {
                seen.countDown();
            }
        });
        try {
            lab.addWifiAddressOnly();
            assertThat(seen.await(5, TimeUnit.SECONDS)).as("the monitor saw the Wi-Fi address").isTrue();
        } finally {
            watch.cancel();
        }
        lab.restoreWifiRoutes();

        Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted completed
                        && completed.path().local().getAddress().equals(lab.wifiAddress())), 10_000,
                () -> "the connection back on Wi-Fi; events " + events);
        assertThat(events).anyMatch(e -> e instanceof MigrationEvent.MigrationStarted started
                && started.cause() == MigrationCause.PREFERRED_NETWORK_BACK);
        LabDownload second = LabDownload.start(connection, SIZE / 2);
        assertIntact(second, SIZE / 2);
    }

    @Test
    void withNoNetworkTheConnectionWaitsAndResumesWhenOneAppears() throws Exception {
        connect(client().idleTimeout(Duration.ofSeconds(10)));
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.removeWifiAddress();
        lab.removeCellAddress();
        Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.NoUsableNetwork), 5_000,
                "NoUsableNetwork; events " + events);
        long stalledAt = download.received();
        lab.restoreCellAddress();

        // The monitor sees the address within its interval (250 ms), and the connection sends at once: not at its
        // next probe timeout, which the outage doubled again and again.
        Await.until(() -> download.received() > stalledAt, 2_000,
                "data within 2 s of the network's return; events " + events);
        assertIntact(download, SIZE);
        assertThat(download.received()).isGreaterThan(stalledAt);
        assertThat(connection.localAddress().getAddress()).isEqualTo(lab.cellAddress());
    }

    @Test
    void theOnlyNetworkComingBackResumesTheConnectionOnTheSamePathAtOnce() throws Exception {
        connect(client().idleTimeout(Duration.ofSeconds(20)));
        InetSocketAddress before = connection.localAddress();
        LabDownload download = downloadUntilChangePoint(SIZE);
        lab.removeCellAddress();
        Await.until(() -> connection.localAddress().equals(before) && download.received() > CHANGE_AT, 5_000,
                "still downloading on Wi-Fi");

        download.mark();
        lab.removeWifiAddress();
        Await.until(() -> events.stream().anyMatch(e -> e instanceof MigrationEvent.NoUsableNetwork), 5_000,
                "NoUsableNetwork; events " + events);
        // An outage of some seconds: the engine's probe timeouts, doubled at each lost probe, grow to seconds.
        Thread.sleep(6_000); // the length of the outage itself, not a synchronisation
        long stalledAt = download.received();
        lab.restoreWifiAddress();

        // The monitor sees the address within 250 ms, and the connection resumes at once.
        Await.until(() -> download.received() > stalledAt, 1_500,
                "data within 1.5 s of the network's return; events " + events);
        assertIntact(download, SIZE);
        assertThat(connection.localAddress()).as("the same path, resumed").isEqualTo(before);
        assertThat(events).as("events").anyMatch(e -> e instanceof MigrationEvent.PathResumed resumed
                && resumed.path().local().equals(before));
    }

    @Test
    void withNoNetworkUntilTheIdleTimeoutTheConnectionEndsWithNoUsableNetwork() throws Exception {
        connect(client().idleTimeout(Duration.ofSeconds(3)));
        LabDownload download = downloadUntilChangePoint(SIZE);

        lab.removeWifiAddress();
        lab.removeCellAddress();

        Throwable failure = catchThrowable(() -> download.digest().get(20, TimeUnit.SECONDS));
        assertThat(failure).isInstanceOf(ExecutionException.class);
        assertNoEngineTypes(failure.getCause());
        assertThat(failure.getCause()).as("events %s", events).isInstanceOf(ConnectionClosedException.class);
        assertThat(((ConnectionClosedException) failure.getCause()).reason())
                .isEqualTo(ConnectionClosedException.Reason.NO_USABLE_NETWORK);
        assertThat(failure.getCause().getMessage()).contains("no usable network").doesNotContain("No error");
        Throwable next = catchThrowable(() -> connection.openStream());
        assertNoEngineTypes(next);
        assertThat(next).isInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void applicationMigratingRightAfterTheAddressIsRemovedKeepsTheDownload() throws Exception {
        connect(client().migrationPolicy(MigrationPolicy.disabled()));
        LabDownload download = downloadUntilChangePoint(SIZE);

        download.mark();
        lab.removeWifiAddress();
        MigrationResult result = connection.migrate(new InetSocketAddress(lab.cellAddress(), 0)).get(10, TimeUnit.SECONDS);

        assertThat(result.cause()).isEqualTo(MigrationCause.APPLICATION);
        assertIntact(download, SIZE);
        assertThat(connection.localAddress().getAddress()).isEqualTo(lab.cellAddress());
    }
}
