package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** From the benchmarks' JSON files to charts beside them. */
class ChartsTest {

    @TempDir
    Path directory;

    private static final String HANDOVER = """
            [
              {"way": "quic migrate, old network up", "oneWayDelayMs": 0, "stallMs": [4.0, 5.0, 30.0]},
              {"way": "quic NAT rebinding", "oneWayDelayMs": 0, "stallMs": [6.0, 3.0, 5.0]},
              {"way": "tcp+tls reconnect", "oneWayDelayMs": 0, "stallMs": [18.0, 12.0, 20.0]},
              {"way": "quic migrate, old network up", "oneWayDelayMs": 25, "stallMs": [39.2, 32.8, 55.6], "receivedRun": 0, "receivedMs": [-80.0, -40.0, -0.5, 39.2, 60.0, 120.0], "receivedBytes": [1900000, 2000000, 2097152, 2150000, 4000000, 6291456]},
              {"way": "quic NAT rebinding", "oneWayDelayMs": 25, "stallMs": [46.9, 35.4, 158.0], "receivedRun": 0, "receivedMs": [-10.0, 46.9, 140.0], "receivedBytes": [2097152, 2200000, 6291456]},
              {"way": "tcp+tls reconnect", "oneWayDelayMs": 25, "stallMs": [158.7, 156.8, 162.5], "receivedRun": 0, "receivedMs": [-5.0, 158.7, 300.0], "receivedBytes": [2097152, 2150000, 6291456]}
            ]
            """;

    @Test
    void handoverResultsGiveStallBarsForEveryWayAndDelayAndReceivedLinesPerDelay() throws Exception {
        Path json = Files.writeString(directory.resolve("handover-benchmark.json"), HANDOVER);

        List<Path> written = Charts.write(json, null);

        assertThat(written).as("the stall chart, and a received-bytes chart only for the delay that has the data")
                .containsExactly(directory.resolve("handover-benchmark.svg"),
                        directory.resolve("handover-benchmark-received-25ms.svg"));
        SvgDocument stall = SvgDocument.parse(Files.readString(written.get(0)));
        assertThat(stall.withClass("bar")).as("3 ways x 2 delays").hasSize(6);
        assertThat(stall.withClass("whisker")).hasSize(6);
        assertThat(stall.texts("value")).as("medians, each way's delays side by side")
                .containsExactly("5.0", "39.2", "5.0", "46.9", "18.0", "158.7");
        assertThat(stall.texts("legend")).containsExactly("no added delay", "25 ms added each way");
        assertThat(stall.texts("subtitle").get(0)).contains("median of 3 runs");
        Element tcp = stall.withClass("bar").get(5);
        Element nat = stall.withClass("bar").get(3);
        assertThat(SvgDocument.number(tcp, "height") / SvgDocument.number(nat, "height"))
                .as("TCP's bar over NAT rebinding's, as their medians").isCloseTo(158.7 / 46.9, within(0.01));

        SvgDocument received = SvgDocument.parse(Files.readString(written.get(1)));
        List<Element> lines = received.withClass("line");
        assertThat(lines).as("one line per way").hasSize(3);
        assertThat(received.texts("legend")).containsExactly("quic migrate, old network up", "quic NAT rebinding",
                "tcp+tls reconnect");
        assertThat(lines.get(0).getAttribute("d").chars().filter(c -> c == 'H').count())
                .as("the first way's points from 50 ms before the change: a start at -50 ms, then -40, -0.5, 39.2, 60, 120")
                .isEqualTo(5);
    }

    @Test
    void networkChangeResultsPutQuicBesideTcpForEachChange() throws Exception {
        Path json = Files.writeString(directory.resolve("network-change-benchmark.json"), """
                [
                  {"way": "quic, address removed", "oneWayDelayMs": 25, "stallMs": [112.0, 100.0, 130.0]},
                  {"way": "tcp+tls, address removed", "oneWayDelayMs": 25, "stallMs": [227.0, 218.0, 392.0]},
                  {"way": "quic, black hole", "oneWayDelayMs": 25, "stallMs": [1061.0, 949.0, 1862.0]},
                  {"way": "tcp+tls, black hole", "oneWayDelayMs": 25, "stallMs": [2175.0, 46.0, 2180.0]}
                ]
                """);

        List<Path> written = Charts.write(json, "commit 0000000, 2 cores");

        assertThat(written).as("no received-bytes data, no such chart")
                .containsExactly(directory.resolve("network-change-benchmark.svg"));
        SvgDocument document = SvgDocument.parse(Files.readString(written.get(0)));
        assertThat(document.withClass("bar")).hasSize(4);
        assertThat(document.texts("legend")).containsExactly("QUIC, this library", "TCP + TLS 1.3 reconnect");
        assertThat(document.withClass("group").stream().map(Element::getTextContent))
                .containsExactly("address removed", "black hole");
        assertThat(document.texts("value")).containsExactly("112.0", "227.0", "1061.0", "2175.0");
        assertThat(document.texts("subtitle").get(0)).startsWith("25 ms added each way");
        assertThat(document.texts("caption")).containsExactly("commit 0000000, 2 cores");
    }

    @Test
    void goodputIsAShareOfTheSameServersGoodputWithoutRebindingAgainstTheCeiling() throws Exception {
        Path json = Files.writeString(directory.resolve("rebinding-goodput.json"), """
                [
                  {"server": "ours", "oneWayDelayMs": 25, "rebindEveryMs": 0, "mebibytes": 50, "goodputMBps": [15.0, 16.0, 14.0], "rebinds": [0, 0, 0]},
                  {"server": "ours", "oneWayDelayMs": 25, "rebindEveryMs": 1000, "mebibytes": 50, "goodputMBps": [14.4, 15.0, 13.5], "rebinds": [3, 3, 3]},
                  {"server": "ours", "oneWayDelayMs": 25, "rebindEveryMs": 300, "mebibytes": 50, "goodputMBps": [10.2, 9.0, 11.0], "rebinds": [16, 16, 16]},
                  {"server": "ours", "oneWayDelayMs": 25, "rebindEveryMs": 100, "mebibytes": 50, "goodputMBps": [0.0, 0.0, 0.0], "rebinds": [600, 600, 600]}
                ]
                """);

        List<Path> written = Charts.write(json, null);

        assertThat(written).containsExactly(directory.resolve("rebinding-goodput.svg"));
        SvgDocument document = SvgDocument.parse(Files.readString(written.get(0)));
        List<Element> bars = document.withClass("bar");
        assertThat(bars).as("one bar per interval with rebinding; the baseline is the 100 %").hasSize(3);
        assertThat(document.texts("value")).as("median over the no-rebinding median, 15 MB/s").containsExactly("96", "68", "0");
        List<Element> ceilings = document.withClass("reference");
        assertThat(ceilings).hasSize(3);
        double bottom = SvgDocument.number(bars.get(0), "y") + SvgDocument.number(bars.get(0), "height");
        double perPercent = SvgDocument.number(bars.get(0), "height") / 96;
        assertThat(SvgDocument.number(ceilings.get(0), "y1")).as("ceiling at 1 s and 50 ms RTT: (1000 - 100) / 1000")
                .isCloseTo(bottom - 90 * perPercent, within(0.05));
        assertThat(SvgDocument.number(ceilings.get(1), "y1")).as("ceiling at 300 ms: (300 - 100) / 300")
                .isCloseTo(bottom - 66.667 * perPercent, within(0.05));
        assertThat(SvgDocument.number(ceilings.get(2), "y1")).as("ceiling at 100 ms: nothing left").isCloseTo(bottom, within(0.01));
        assertThat(document.texts("legend")).containsExactly("our server, 25 ms added each way",
                "ceiling under RFC 9000's 3x limit: (T - 2 RTT) / T");
    }

    @Test
    void theSameResultsGiveTheSameBytes() throws Exception {
        Path json = Files.writeString(directory.resolve("handover-benchmark.json"), HANDOVER);

        List<Path> first = Charts.write(json, null);
        List<byte[]> before = first.stream().map(ChartsTest::read).toList();
        List<Path> second = Charts.write(json, null);

        assertThat(second).isEqualTo(first);
        for (int i = 0; i < first.size(); i++) {
            assertThat(read(second.get(i))).as("%s drawn again", second.get(i).getFileName()).isEqualTo(before.get(i));
        }
    }

    @Test
    void readsWhatTheBenchmarksWrite() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        DownloadWatch watch = new DownloadWatch(() -> now.addAndGet(20_000)); // virtual time, 20 us a read
        byte[] block = new byte[64 * 1024];
        while (!watch.changeDue()) {
            watch.data(block, block.length);
        }
        watch.changed();
        now.addAndGet(5_000_000L); // a 5 ms pause
        while (watch.received() < Handovers.TOTAL) {
            watch.data(block, block.length);
        }
        Handovers.Download download = watch.result();
        // a row as HandoverBenchmark and NetworkChangeBenchmark write it
        String row = String.format(java.util.Locale.ROOT, "  {\"way\": \"%s\", \"oneWayDelayMs\": %d, \"stallMs\": %s, %s},%n",
                "quic migrate, old network up", 25, java.util.Arrays.toString(new double[]{download.interruptionMillis()}),
                Handovers.receivedJson(new Handovers.Download[]{download}));
        StringBuilder json = new StringBuilder("[\n").append(row);
        json.setLength(json.length() - 2);
        json.append("\n]\n");

        List<Map<String, Object>> rows = Charts.rows(json.toString(), "a benchmark's row");

        assertThat(rows).hasSize(1);
        assertThat((List<?>) rows.get(0).get("receivedMs")).as("a time per byte count")
                .hasSameSizeAs((List<?>) rows.get(0).get("receivedBytes")).isNotEmpty();
        assertThat(((List<?>) rows.get(0).get("receivedBytes")).get(((List<?>) rows.get(0).get("receivedBytes")).size() - 1))
                .as("the last point is the whole download").isEqualTo((double) Handovers.TOTAL);
        assertThat(Charts.received(rows, false, null)).as("a received-bytes chart for 25 ms").containsKey(25L);
    }

    @Test
    void aFileThatIsNotResultsIsRefusedWithWhereItBroke() throws Exception {
        assertThatThrownBy(() -> Charts.rows("[{\"way\": \"x\", \"stallMs\": [1.0, }]", "broken.json"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("broken.json")
                .hasMessageContaining("character");
        assertThatThrownBy(() -> Charts.rows("{\"way\": \"x\"}", "object.json"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an array");
        Path other = Files.writeString(directory.resolve("other.json"), "[{\"tracing\": \"qlog\"}]");
        assertThatThrownBy(() -> Charts.write(other, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("other.json");
        Map<String, Object> parsed = Charts.rows(
                "[{\"s\": \"a\\\"b\\u00e9\\n\", \"n\": -1.5e2, \"t\": true, \"z\": null, \"e\": []}]", "escapes").get(0);
        assertThat(parsed).as("every kind of value, fields in order").containsExactly(
                java.util.Map.entry("s", "a\"b\u00e9\n"), java.util.Map.entry("n", -150.0),
                java.util.Map.entry("t", true), new java.util.AbstractMap.SimpleEntry<>("z", null),
                java.util.Map.entry("e", List.of()));
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
