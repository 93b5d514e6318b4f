package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the system monitor reports from what it reads, poll by poll (the polls are called directly). */
class SystemNetworkMonitorTest {

    private static final Network WIFI = network("wlan0", "198.18.0.2");
    private static final Network CELL = network("rmnet0", "198.18.1.2");
    private static final String ROUTES = "Iface Destination Gateway\nwlan0 0100A8C0 0000A8C0\n";
    private static final String ROUTES_WITH_CELL = ROUTES + "rmnet0 0100A8C0 0001A8C0\n";

    private final ScriptedSource source = new ScriptedSource();
    private final AtomicInteger calls = new AtomicInteger();
    private NetworkMonitor.Subscription subscription;

    private static Network network(String name, String address) {
        try {
            return new Network(name, InetAddress.getByName(address));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A monitor whose own polls are an hour apart: the test polls. */
    private SystemNetworkMonitor subscribed(List<Network> networks, String routes) {
        source.then(networks, routes);
        SystemNetworkMonitor monitor = new SystemNetworkMonitor(Duration.ofHours(1), source);
        subscription = monitor.subscribe(calls::incrementAndGet);
        assertThat(monitor.networks()).isEqualTo(networks);
        return monitor;
    }

    @AfterEach
    void cancel() {
        if (subscription != null) {
            subscription.cancel();
        }
    }

    @Test
    void anAddressMissingFromOneReadOnlyIsNotReportedLost() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        // One enumeration, while another interface changes, leaves out an address that is still there.
        source.then(List.of(WIFI), ROUTES).then(List.of(WIFI, CELL), ROUTES);

        monitor.poll();

        assertThat(calls).hasValue(0);
        assertThat(monitor.networks()).containsExactly(WIFI, CELL);
    }

    @Test
    void aChangeSeenInTwoReadsInARowIsReported() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        source.then(List.of(CELL), ROUTES).then(List.of(CELL), ROUTES);

        monitor.poll();

        assertThat(calls).hasValue(1);
        assertThat(monitor.networks()).containsExactly(CELL);
    }

    @Test
    void readsThatDoNotSettleChangeNothingUntilALaterPoll() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        for (int i = 0; i < SystemNetworkMonitor.MAX_READS; i++) {
            source.then(i % 2 == 0 ? List.of(CELL) : List.of(WIFI), ROUTES);
        }
        monitor.poll();
        assertThat(calls).hasValue(0);

        source.then(List.of(CELL), ROUTES).then(List.of(CELL), ROUTES);
        monitor.poll();
        assertThat(calls).hasValue(1);
    }

    @Test
    void aFailedReadIsNoLossOfEveryNetwork() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        source.failing();

        monitor.poll();

        assertThat(calls).hasValue(0);
        assertThat(monitor.networks()).containsExactly(WIFI, CELL);
    }

    @Test
    void aRouteThatArrivesAfterItsAddressIsAChange() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        source.then(List.of(WIFI, CELL), ROUTES_WITH_CELL).then(List.of(WIFI, CELL), ROUTES_WITH_CELL);

        monitor.poll();

        assertThat(calls).hasValue(1);
    }

    @Test
    void aPollThatFindsNothingNewReadsOnceAndTellsNobody() {
        SystemNetworkMonitor monitor = subscribed(List.of(WIFI, CELL), ROUTES);
        source.then(List.of(WIFI, CELL), ROUTES);

        monitor.poll();

        assertThat(calls).hasValue(0);
        assertThat(source.pending()).isZero();
        assertThat(source.reads()).isEqualTo(3);
    }

    @Test
    void routesAreReadWithoutTheCountersThatChangeWithTraffic() {
        String before = "eth0\t00000000\t010200C0\t0003\t0\t17\t0\t00000000\t0\t0\t0\n";
        String after = "eth0\t00000000\t010200C0\t0003\t1\t99\t0\t00000000\t0\t0\t0\n";
        String moved = "eth0\t00000000\t020200C0\t0003\t0\t17\t0\t00000000\t0\t0\t0\n";

        assertThat(KernelRoutes.withoutCounters(after, 4, 5)).isEqualTo(KernelRoutes.withoutCounters(before, 4, 5));
        assertThat(KernelRoutes.withoutCounters(moved, 4, 5)).isNotEqualTo(KernelRoutes.withoutCounters(before, 4, 5));
    }

    /** Reads in the order given; the last one again once the script runs out. */
    private static final class ScriptedSource implements SystemNetworkMonitor.Source {
        private record Read(List<Network> networks, String routes) {
        }

        private final Deque<Read> script = new ArrayDeque<>();
        private Read lastRead;
        private boolean failing;
        private int reads;

        ScriptedSource then(List<Network> networks, String routes) {
            script.add(new Read(List.copyOf(networks), routes));
            return this;
        }

        void failing() {
            failing = true;
        }

        int pending() {
            return script.size();
        }

        int reads() {
            return reads;
        }

        @Override
        public synchronized List<Network> networks() throws SocketException {
            if (failing) {
                throw new SocketException("Cannot assign requested address (ioctl(SIOCGIFNETMASK) failed)");
            }
            reads++;
            lastRead = script.isEmpty() ? lastRead : script.poll();
            return lastRead.networks();
        }

        @Override
        public synchronized String routes() {
            return lastRead.routes();
        }
    }
}
