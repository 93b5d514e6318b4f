package org.quicmigration.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Draws the benchmarks' results as SVG charts, next to the JSON files they wrote under {@code target/}:
 * <ul>
 * <li>{@code handover-benchmark.json} ({@link HandoverBenchmark}): {@code handover-benchmark.svg}, the stall of
 * every way at every delay (median bars, min-max whiskers), and for each delay
 * {@code handover-benchmark-received-<delay>ms.svg}, the bytes received over time around the change, one line per
 * way (each way's median run);</li>
 * <li>{@code network-change-benchmark.json} ({@link NetworkChangeBenchmark}): {@code network-change-benchmark.svg},
 * QUIC's and TCP + TLS's pause per change, and {@code network-change-benchmark-received-<delay>ms.svg};</li>
 * <li>{@code rebinding-goodput.json} ({@link RebindingGoodput}): {@code rebinding-goodput.svg}, each server's
 * goodput under rebinding as a share of its own without, against the ceiling RFC 9000's three-times limit sets.</li>
 * </ul>
 * Those benchmarks draw their own charts when they finish; this main draws them again from the files:
 *
 * <pre>
 * Charts [--caption=TEXT] [result.json ...]   every result file named, or every one of the above under target/
 * Charts [--caption=TEXT] readme              target/handover-benchmark.json's stall chart to docs/images/handover.svg
 * </pre>
 *
 * Paths are relative to the working directory (the repository root when run as the README says). The same file
 * gives the same bytes; {@code --caption} adds a line of text below each chart (a commit, a machine). Exits 1 if a
 * file named is missing or none of the above is found.
 */
public final class Charts {

    private static final Path TARGET = Path.of("target");
    /** The README's image. */
    static final Path README_IMAGE = Path.of("docs", "images", "handover.svg");
    private static final List<String> KNOWN = List.of("handover-benchmark.json", "network-change-benchmark.json",
            "rebinding-goodput.json");
    /** How much of the time before the change the received-bytes charts show. */
    private static final double BEFORE_CHANGE_MS = 50;
    private static final double MIB = 1 << 20;

    private Charts() {
    }

    public static void main(String[] args) throws IOException {
        String caption = null;
        List<Path> files = new ArrayList<>();
        boolean readme = false;
        for (String arg : args) {
            if (arg.startsWith("--caption=")) {
                caption = arg.substring("--caption=".length());
            } else if (arg.equals("readme")) {
                readme = true;
            } else {
                files.add(Path.of(arg));
            }
        }
        if (readme) {
            Path json = TARGET.resolve("handover-benchmark.json");
            if (!Files.exists(json)) {
                fail("no " + json.toAbsolutePath() + ": run HandoverBenchmark first, from the repository root");
            }
            writeSvg(README_IMAGE, handoverStall(rows(json), caption));
            System.out.println("chart: " + README_IMAGE.toAbsolutePath());
            return;
        }
        if (files.isEmpty()) {
            KNOWN.stream().map(TARGET::resolve).filter(Files::exists).forEach(files::add);
            if (files.isEmpty()) {
                fail("no benchmark results in " + TARGET.toAbsolutePath() + " (" + String.join(", ", KNOWN)
                        + "): run a benchmark first, from the repository root");
            }
        }
        for (Path json : files) {
            if (!Files.exists(json)) {
                fail("no " + json.toAbsolutePath());
            }
            for (Path svg : write(json, caption)) {
                System.out.println("chart: " + svg.toAbsolutePath());
            }
        }
    }

    /**
     * For a benchmark that has just written {@code json}: draws its charts next to it and prints where they went.
     * Never throws: the results are written already, and a chart that could not be drawn is only reported.
     */
    static void writeFor(Path json) {
        try {
            for (Path svg : write(json, null)) {
                System.out.println("chart: " + svg.toAbsolutePath());
            }
        } catch (IOException | RuntimeException e) {
            System.out.println("no chart drawn from " + json + ": " + e);
        }
    }

    /**
     * Draws the charts of one result file next to it, what they show chosen by the rows' fields (a stall per
     * {@code way}, or a goodput per {@code rebindEveryMs}), and returns the files written.
     *
     * @throws IOException              if the file cannot be read or a chart written
     * @throws IllegalArgumentException if the file is not such a result file
     */
    static List<Path> write(Path json, String caption) throws IOException {
        List<Map<String, Object>> rows = rows(json);
        String name = json.getFileName().toString().replaceFirst("\\.json$", "");
        Path directory = json.toAbsolutePath().getParent();
        Map<Path, String> charts = new LinkedHashMap<>();
        if (rows.isEmpty()) {
            return List.of();
        } else if (rows.get(0).containsKey("rebindEveryMs")) {
            charts.put(directory.resolve(name + ".svg"), goodput(rows, caption));
        } else if (rows.get(0).containsKey("stallMs")) {
            boolean networkChange = name.startsWith("network-change");
            charts.put(directory.resolve(name + ".svg"), networkChange ? networkChangePause(rows, caption)
                    : handoverStall(rows, caption));
            for (Map.Entry<Long, String> received : received(rows, networkChange, caption).entrySet()) {
                charts.put(directory.resolve(name + "-received-" + received.getKey() + "ms.svg"), received.getValue());
            }
        } else {
            throw new IllegalArgumentException(json + " holds neither stalls (\"stallMs\") nor goodputs (\"rebindEveryMs\")");
        }
        for (Map.Entry<Path, String> chart : charts.entrySet()) {
            writeSvg(chart.getKey(), chart.getValue());
        }
        return List.copyOf(charts.keySet());
    }

    /** The handover stall of every way, grouped by way, one bar per delay. */
    static String handoverStall(List<Map<String, Object>> rows, String caption) {
        List<SvgChart.Bar> bars = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            double[] stall = numbers(row, "stallMs");
            bars.add(new SvgChart.Bar(text(row, "way"), delayLabel(number(row, "oneWayDelayMs")), median(stall),
                    min(stall), max(stall), Double.NaN));
        }
        return SvgChart.render(new SvgChart.BarChart("Handover stall by way",
                "Longest pause in received data from the address change on; " + runs(rows) + ", whiskers from min to max",
                "stall, ms", bars, 1, null, caption));
    }

    /** The pause after a real network change: grouped by change, QUIC's bar beside TCP + TLS's. */
    static String networkChangePause(List<Map<String, Object>> rows, String caption) {
        List<SvgChart.Bar> bars = new ArrayList<>();
        boolean oneDelay = rows.stream().map(row -> number(row, "oneWayDelayMs")).distinct().count() == 1;
        for (Map<String, Object> row : rows) {
            double[] pause = numbers(row, "stallMs");
            String[] way = splitWay(text(row, "way"));
            String series = oneDelay ? stackLabel(way[0])
                    : stackLabel(way[0]) + ", " + delayLabel(number(row, "oneWayDelayMs"));
            bars.add(new SvgChart.Bar(way[1], series, median(pause), min(pause), max(pause), Double.NaN));
        }
        String delay = oneDelay ? delayLabel(number(rows.get(0), "oneWayDelayMs")) + "; " : "";
        return SvgChart.render(new SvgChart.BarChart("Pause after a real network change, QUIC and TCP + TLS",
                delay + "longest pause in received data from the change on; " + runs(rows) + ", whiskers from min to max",
                "pause, ms", bars, 1, null, caption));
    }

    /**
     * Bytes received over time around the change, one chart per delay, one line per way (the run the JSON kept:
     * the median one); from 50 ms before the change to the end of the slowest download.
     * Rows without such data are left out; a delay without any has no chart.
     */
    static Map<Long, String> received(List<Map<String, Object>> rows, boolean networkChange, String caption) {
        Map<Long, List<SvgChart.Line>> lines = new LinkedHashMap<>();
        for (Map<String, Object> row : rows) {
            if (!row.containsKey("receivedMs") || numbers(row, "receivedMs").length == 0) {
                continue;
            }
            double[] millis = numbers(row, "receivedMs");
            double[] bytes = numbers(row, "receivedBytes");
            String name = text(row, "way");
            if (networkChange) {
                String[] way = splitWay(name);
                name = stackLabel(way[0]) + ", " + way[1];
            }
            SvgChart.Line line = fromChange(name, millis, bytes);
            if (line != null) {
                lines.computeIfAbsent((long) number(row, "oneWayDelayMs"), delay -> new ArrayList<>()).add(line);
            }
        }
        Map<Long, String> charts = new LinkedHashMap<>();
        for (Map.Entry<Long, List<SvgChart.Line>> delay : lines.entrySet()) {
            String title = (networkChange ? "Received data around the network change, " : "Received data around the handover, ")
                    + delayLabel(delay.getKey());
            charts.put(delay.getKey(), SvgChart.render(new SvgChart.LineChart(title,
                    "Each way's median run; a line is flat while its way stalls", "ms from the change",
                    "received, MiB", delay.getValue(), 0, "change", caption)));
        }
        return charts;
    }

    /**
     * A line from 50 ms before the change on, in MiB: the points from then, led by the level
     * at that moment if the line began earlier; null if nothing is left.
     */
    private static SvgChart.Line fromChange(String name, double[] millis, double[] bytes) {
        if (millis.length != bytes.length) {
            throw new IllegalArgumentException(name + ": " + millis.length + " times and " + bytes.length + " byte counts");
        }
        List<double[]> points = new ArrayList<>();
        for (int i = 0; i < millis.length; i++) {
            if (millis[i] >= -BEFORE_CHANGE_MS) {
                if (points.isEmpty() && i > 0) {
                    points.add(new double[]{-BEFORE_CHANGE_MS, bytes[i - 1] / MIB});
                }
                points.add(new double[]{millis[i], bytes[i] / MIB});
            }
        }
        if (points.isEmpty()) {
            return null;
        }
        return new SvgChart.Line(name, points.stream().mapToDouble(point -> point[0]).toArray(),
                points.stream().mapToDouble(point -> point[1]).toArray());
    }

    /**
     * Goodput under rebinding: per rebinding interval, each server and delay as a share of the same server's median
     * goodput without rebinding at that delay, with the ceiling RFC 9000's three-times limit on an unvalidated
     * address sets: two round trips without data per rebinding, so at most (T - 2 RTT) / T of the goodput with a
     * rebinding every T (RTT taken as twice the added one-way delay; the loopback's own is left out).
     */
    static String goodput(List<Map<String, Object>> rows, String caption) {
        Map<String, Double> baselines = new LinkedHashMap<>();
        for (Map<String, Object> row : rows) {
            if (number(row, "rebindEveryMs") == 0) {
                baselines.put(text(row, "server") + "/" + number(row, "oneWayDelayMs"), median(numbers(row, "goodputMBps")));
            }
        }
        List<SvgChart.Bar> bars = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            double every = number(row, "rebindEveryMs");
            double delay = number(row, "oneWayDelayMs");
            Double baseline = baselines.get(text(row, "server") + "/" + delay);
            if (every == 0 || baseline == null || baseline <= 0) {
                continue;
            }
            double[] goodput = numbers(row, "goodputMBps");
            double ceiling = 100 * Math.max(0, (every - 2 * (2 * delay)) / every);
            bars.add(new SvgChart.Bar(String.format(java.util.Locale.ROOT, "rebinding every %.0f ms", every),
                    serverLabel(text(row, "server")) + ", " + delayLabel(delay), 100 * median(goodput) / baseline,
                    100 * min(goodput) / baseline, 100 * max(goodput) / baseline, ceiling));
        }
        if (bars.isEmpty()) {
            throw new IllegalArgumentException("no goodput with rebinding beside one without it, to compare with");
        }
        return SvgChart.render(new SvgChart.BarChart("Goodput while a NAT keeps rebinding the client",
                "Share of the same server's goodput without rebinding; " + runs(rows) + ", whiskers from min to max",
                "% of the goodput without rebinding", bars, 0, "ceiling under RFC 9000's 3x limit: (T - 2 RTT) / T",
                caption));
    }

    // ---- the rows ----

    /** The rows of a result file: a JSON array of objects. */
    static List<Map<String, Object>> rows(Path json) throws IOException {
        return rows(Files.readString(json, StandardCharsets.UTF_8), json.toString());
    }

    /** The rows of a result file's text, named {@code source} in errors. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rows(String text, String source) {
        Object value;
        try {
            value = JsonReader.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        if (!(value instanceof List<?> list) || !list.stream().allMatch(row -> row instanceof Map)) {
            throw new IllegalArgumentException(source + ": not an array of result objects");
        }
        return (List<Map<String, Object>>) value;
    }

    private static String text(Map<String, Object> row, String field) {
        return field(row, field, String.class);
    }

    private static double number(Map<String, Object> row, String field) {
        return field(row, field, Double.class);
    }

    private static double[] numbers(Map<String, Object> row, String field) {
        List<?> list = field(row, field, List.class);
        double[] numbers = new double[list.size()];
        for (int i = 0; i < numbers.length; i++) {
            if (!(list.get(i) instanceof Double number)) {
                throw new IllegalArgumentException("field " + field + " of " + row.keySet() + " holds " + list.get(i)
                        + ", not a number");
            }
            numbers[i] = number;
        }
        if (numbers.length == 0 && !field.startsWith("received")) {
            throw new IllegalArgumentException("field " + field + " is empty");
        }
        return numbers;
    }

    private static <T> T field(Map<String, Object> row, String field, Class<T> type) {
        Object value = row.get(field);
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("field " + field + " of a row with " + row.keySet() + " is "
                    + (value == null ? "missing" : value + ", not a " + type.getSimpleName()));
        }
        return type.cast(value);
    }

    // ---- labels and statistics ----

    /** "quic, address removed" as {"quic", "address removed"}. */
    private static String[] splitWay(String way) {
        int comma = way.indexOf(", ");
        return comma < 0 ? new String[]{way, ""} : new String[]{way.substring(0, comma), way.substring(comma + 2)};
    }

    private static String stackLabel(String stack) {
        return switch (stack) {
            case "quic" -> "QUIC, this library";
            case "tcp+tls" -> "TCP + TLS 1.3 reconnect";
            default -> stack;
        };
    }

    private static String serverLabel(String server) {
        return switch (server) {
            case "ours" -> "our server";
            case "netty" -> "Netty QUIC (quiche)";
            default -> server;
        };
    }

    private static String delayLabel(double oneWayDelayMs) {
        return oneWayDelayMs == 0 ? "no added delay"
                : String.format(java.util.Locale.ROOT, "%.0f ms added each way", oneWayDelayMs);
    }

    private static String runs(List<Map<String, Object>> rows) {
        int most = 0;
        int fewest = Integer.MAX_VALUE;
        for (Map<String, Object> row : rows) {
            Object runs = row.containsKey("stallMs") ? row.get("stallMs") : row.get("goodputMBps");
            int count = runs instanceof List<?> list ? list.size() : 0;
            most = Math.max(most, count);
            fewest = Math.min(fewest, count);
        }
        return most == fewest ? (most == 1 ? "1 run" : "median of " + most + " runs")
                : "median of " + fewest + " to " + most + " runs";
    }

    /** The median as the benchmarks print it: the middle value, or the upper of the two middle ones. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    private static void writeSvg(Path file, String svg) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(file, svg, StandardCharsets.UTF_8);
    }

    private static void fail(String message) {
        System.out.println(message);
        System.exit(1);
    }
}
