package org.quicmigration.examples;

import java.util.Arrays;
import java.util.Locale;

/**
 * TCP versus QUIC when the network changes, measured. Both download the same 6 MiB through a relay that adds a
 * delay each way (default 25 ms). After 2 MiB the client's network (127.0.0.2) goes away abruptly and the client
 * continues from 127.0.0.3:
 * <ul>
 * <li>TCP + TLS 1.3 cannot move: the client opens a new connection from the new address (TCP handshake, TLS
 *     handshake) and asks the server to resume at the byte it had reached;</li>
 * <li>QUIC migrates the connection it has: {@code migrate()}, then the server validates the new path.</li>
 * </ul>
 * The interruption is the longest pause in received data from the moment of the change. Each is measured over
 * several runs (default 5) and the medians are compared; every download is checked byte for byte (SHA-256).
 * Nothing here is hard-coded: the numbers are whatever this machine measures. Exits 1 if a download differs.
 *
 * <pre>./run-example TcpVsQuic 5 25</pre>
 */
public final class TcpVsQuic {

    private TcpVsQuic() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long delayMillis = args.length > 1 ? Long.parseLong(args[1]) : 25;
        byte[] expected = Handovers.expectedDigest();
        double[] tcp = new double[runs];
        double[] quic = new double[runs];
        boolean intact = true;
        System.out.printf("%d MiB download, network change after %d MiB, %d ms each way (RTT %d ms)%n",
                Handovers.TOTAL >> 20, Handovers.CHANGE_AT >> 20, delayMillis, 2 * delayMillis);
        System.out.printf("%4s %28s %28s%n", "run", "TCP+TLS 1.3 reconnect, ms", "QUIC migration, ms");
        try (Handovers.Servers servers = new Handovers.Servers(delayMillis)) {
            for (int run = 0; run < runs; run++) {
                Handovers.Download tcpRun = Handovers.tcpReconnect(servers);
                Handovers.Download quicRun = Handovers.quic(servers, Handovers.QuicChange.MIGRATE_ABRUPT);
                tcp[run] = tcpRun.interruptionMillis();
                quic[run] = quicRun.interruptionMillis();
                intact &= Arrays.equals(expected, tcpRun.digest()) && Arrays.equals(expected, quicRun.digest());
                System.out.printf(Locale.ROOT, "%4d %28.1f %28.1f%n", run + 1, tcp[run], quic[run]);
            }
        }
        double tcpMedian = median(tcp);
        double quicMedian = median(quic);
        System.out.printf(Locale.ROOT, "median %26.1f %28.1f%n", tcpMedian, quicMedian);
        System.out.printf(Locale.ROOT, "TCP's interruption / QUIC's: %.2f (median of %d runs on this machine; above 1 means"
                + " QUIC resumed sooner)%n", tcpMedian / quicMedian, runs);
        if (!intact) {
            System.out.println("FAILED: a download differed from what the server sent");
            System.exit(1);
        }
        System.out.println("OK: every download verified byte for byte");
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
