package org.quicmigration.examples;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The handover stall, measured: the longest pause in received data when a download's address changes, for every
 * way to survive it, at 0 ms and 25 ms added one-way delay (see {@link Handovers} for the download):
 * <ul>
 * <li>{@code quic migrate, old network dead}: {@code migrate()} while the old network is gone;</li>
 * <li>{@code quic migrate, old network up}: {@code migrate()} while the old network still works;</li>
 * <li>{@code quic validate-first, old up}: {@code migrate(address, VALIDATE_THEN_SWITCH)} while the old network
 * still works;</li>
 * <li>{@code quic NAT rebinding}: the client's port changes under it; the server follows;</li>
 * <li>{@code quic new connection}: a new QUIC connection (new handshake) from the new address, resuming;</li>
 * <li>{@code tcp+tls reconnect}: a new TCP + TLS 1.3 connection from the new address, resuming.</li>
 * </ul>
 * The ways take turns within each run; medians, ranges and the ratio to TCP are printed and written to
 * {@code target/handover-benchmark.json}, with the received bytes over time around the change of each way's median
 * run; {@link Charts} draws them next to it ({@code handover-benchmark.svg} and, per delay,
 * {@code handover-benchmark-received-25ms.svg}). Exits 1 if any download differs.
 *
 * <pre>./run-example HandoverBenchmark 7</pre>
 */
public final class HandoverBenchmark {

    private HandoverBenchmark() {
    }

    private interface Way {
        Handovers.Download run(Handovers.Servers servers) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        long[] delays = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToLong(Long::parseLong).toArray()
                : new long[]{0, 25};
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("quic migrate, old network dead", servers -> Handovers.quic(servers, Handovers.QuicChange.MIGRATE_ABRUPT));
        ways.put("quic to standby, old dead",
                servers -> Handovers.quic(servers, Handovers.QuicChange.MIGRATE_TO_STANDBY));
        ways.put("quic to remembered, old dead",
                servers -> Handovers.quic(servers, Handovers.QuicChange.MIGRATE_TO_REMEMBERED));
        ways.put("quic migrate, old network up", servers -> Handovers.quic(servers, Handovers.QuicChange.MIGRATE_POLITE));
        ways.put("quic validate-first, old up",
                servers -> Handovers.quic(servers, Handovers.QuicChange.MIGRATE_VALIDATE_FIRST));
        ways.put("quic NAT rebinding", servers -> Handovers.quic(servers, Handovers.QuicChange.NAT_REBINDING));
        ways.put("quic new connection", servers -> Handovers.quic(servers, Handovers.QuicChange.NEW_CONNECTION));
        ways.put("tcp+tls reconnect", Handovers::tcpReconnect);
        byte[] expected = Handovers.expectedDigest();
        boolean intact = true;
        StringBuilder json = new StringBuilder("[\n");
        System.out.printf("handover stall: longest pause in received data from the address change on; %d runs, "
                + "median (range) in ms; %d MiB download, change after %d MiB%n", runs, Handovers.TOTAL >> 20,
                Handovers.CHANGE_AT >> 20);
        System.out.printf("%-32s %10s %26s %14s%n", "way", "delay", "stall ms", "tcp / this");
        for (long delay : delays) {
            Map<String, double[]> results = new LinkedHashMap<>();
            Map<String, Handovers.Download[]> downloads = new LinkedHashMap<>();
            ways.keySet().forEach(name -> results.put(name, new double[runs]));
            ways.keySet().forEach(name -> downloads.put(name, new Handovers.Download[runs]));
            try (Handovers.Servers servers = new Handovers.Servers(delay)) {
                Handovers.quic(servers, Handovers.QuicChange.MIGRATE_POLITE); // warm-up
                for (int run = 0; run < runs; run++) {
                    for (Map.Entry<String, Way> way : ways.entrySet()) {
                        Handovers.Download download = way.getValue().run(servers);
                        intact &= Arrays.equals(expected, download.digest());
                        results.get(way.getKey())[run] = download.interruptionMillis();
                        downloads.get(way.getKey())[run] = download;
                    }
                }
            }
            double tcp = TcpVsQuic.median(results.get("tcp+tls reconnect"));
            for (Map.Entry<String, double[]> result : results.entrySet()) {
                double[] values = result.getValue().clone();
                Arrays.sort(values);
                double median = values[values.length / 2];
                System.out.printf(Locale.ROOT, "%-32s %7d ms %11.1f (%5.1f-%6.1f) %14.2f%n", result.getKey(), delay,
                        median, values[0], values[values.length - 1], tcp / median);
                json.append(String.format(Locale.ROOT, "  {\"way\": \"%s\", \"oneWayDelayMs\": %d, \"stallMs\": %s, %s},%n",
                        result.getKey(), delay, Arrays.toString(result.getValue()),
                        Handovers.receivedJson(downloads.get(result.getKey()))));
            }
        }
        Charts.writeFor(Examples.writeResults(json, "handover-benchmark.json"));
        if (!intact) {
            System.out.println("FAILED: a download differed from what the server sent");
            System.exit(1);
        }
    }
}
