package org.quicmigration.examples;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Every benchmark of docs/performance.md, one after the other, with one command:
 *
 * <pre>
 * Benchmarks [full|quick] [name,name,...]
 * </pre>
 *
 * {@code full} (the default) uses the arguments behind the tables of docs/performance.md and takes about 25 minutes
 * on 2 cores; {@code quick} runs each benchmark small, in about two minutes, to check that all of them work. The optional list
 * picks some of them by name ({@code migration}, {@code handover}, {@code goodput}, {@code overhead}, {@code scale},
 * {@code scale5000}, {@code tracing}, {@code network-change}). {@code scale} and {@code scale5000} write the same raw file, the later one
 * last.
 *
 * <p>Each benchmark runs in a JVM of its own, so one cannot warm up, slow down or break the next, and within a
 * deadline (it is killed after it). Each prints its human table and writes its raw results under {@code target/}
 * (the handover, goodput and network-change benchmarks draw their {@link Charts} there too); this runner then
 * prints a summary and writes it to {@code target/benchmarks.json}. Exits 1 if any benchmark failed
 * or ran out of time.
 */
public final class Benchmarks {

    /** One benchmark: its name, its main class, and its arguments for a full and a quick run. */
    private record Benchmark(String name, Class<?> main, String resultFile, String[] full, String[] quick,
                             long fullDeadlineMinutes) {
    }

    private static final List<Benchmark> ALL = List.of(
            new Benchmark("migration", MigrationBenchmark.class, "migration-benchmark.json",
                    new String[]{"9"}, new String[]{"2"}, 20),
            new Benchmark("handover", HandoverBenchmark.class, "handover-benchmark.json",
                    new String[]{"7"}, new String[]{"2", "0,25"}, 30),
            new Benchmark("goodput", RebindingGoodput.class, "rebinding-goodput.json",
                    new String[]{"50", "3"}, new String[]{"10", "1", "0,25", "1000,300", "ours"}, 60),
            new Benchmark("overhead", LibraryOverhead.class, "library-overhead.json",
                    new String[]{"50", "5"}, new String[]{"10", "2"}, 20),
            new Benchmark("scale", ServerScaleBenchmark.class, "server-scale.json",
                    new String[]{"1000"}, new String[]{"200"}, 20),
            // Netty's clients need no thread each, so 5,000 fit beside the server's (see ServerScaleBenchmark).
            new Benchmark("scale5000", ServerScaleBenchmark.class, "server-scale.json",
                    new String[]{"5000", "netty"}, new String[]{"200", "netty"}, 30),
            new Benchmark("tracing", TracingOverhead.class, "tracing-overhead.json",
                    new String[]{"64", "3"}, new String[]{"16", "1"}, 20),
            // Needs root (network namespaces); elsewhere it says so and is skipped.
            new Benchmark("network-change", NetworkChangeBenchmark.class, "network-change-benchmark.json",
                    new String[]{"7", "25"}, new String[]{"2", "25"}, 20));

    /** What one benchmark run did: its arguments, its exit code (-1: out of time), how long it took. */
    private record Outcome(String[] args, int exitCode, double seconds) {
    }

    /** How long a quick run of one benchmark may take. */
    private static final long QUICK_DEADLINE_MINUTES = 10;

    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        List<Benchmark> chosen = choose(args.length > 1 ? args[1] : null);
        if (args.length > 2 || args.length > 0 && !quick && !args[0].equals("full") || chosen == null) {
            System.err.println("usage: Benchmarks [full|quick] [name,name,...]; names: "
                    + String.join(", ", ALL.stream().map(Benchmark::name).toList()));
            System.exit(2);
        }
        String classPath = classPath();
        Map<Benchmark, Outcome> outcomes = new LinkedHashMap<>();
        for (Benchmark benchmark : chosen) {
            String[] benchmarkArgs = quick ? benchmark.quick() : benchmark.full();
            long deadlineMinutes = quick ? QUICK_DEADLINE_MINUTES : benchmark.fullDeadlineMinutes();
            System.out.printf("%n==== %s: %s %s (deadline %d min)%n", benchmark.name(), benchmark.main().getSimpleName(),
                    String.join(" ", benchmarkArgs), deadlineMinutes);
            long start = System.nanoTime();
            int exitCode = runAlone(classPath, benchmark.main(), benchmarkArgs, deadlineMinutes);
            outcomes.put(benchmark, new Outcome(benchmarkArgs, exitCode, (System.nanoTime() - start) / 1e9));
        }
        boolean allPassed = report(outcomes);
        System.exit(allPassed ? 0 : 1);
    }

    /** The benchmarks named in {@code names} (all if null), in the order given; null if a name is unknown. */
    private static List<Benchmark> choose(String names) {
        if (names == null) {
            return ALL;
        }
        List<Benchmark> chosen = new ArrayList<>();
        for (String name : names.split(",")) {
            Benchmark benchmark = ALL.stream().filter(b -> b.name().equals(name.trim())).findFirst().orElse(null);
            if (benchmark == null) {
                System.err.println("no benchmark named '" + name + "'");
                return null;
            }
            chosen.add(benchmark);
        }
        return chosen;
    }

    /** Runs {@code main} in a JVM of its own, its output ours; returns its exit code, or -1 if it ran out of time. */
    private static int runAlone(String classPath, Class<?> main, String[] args, long deadlineMinutes) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "-cp", classPath, main.getName()));
        command.addAll(Arrays.asList(args));
        Process process = new ProcessBuilder(command).inheritIO().start();
        if (!process.waitFor(deadlineMinutes, TimeUnit.MINUTES)) {
            System.out.println("out of time after " + deadlineMinutes + " min: stopping " + main.getSimpleName());
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }

    /** Prints the summary and writes it to target/benchmarks.json; true if every benchmark passed. */
    private static boolean report(Map<Benchmark, Outcome> outcomes) throws Exception {
        System.out.printf("%n%-10s %-28s %6s %9s  %s%n", "benchmark", "arguments", "exit", "seconds", "raw results");
        StringBuilder json = new StringBuilder("[\n");
        boolean allPassed = true;
        for (Map.Entry<Benchmark, Outcome> entry : outcomes.entrySet()) {
            Benchmark benchmark = entry.getKey();
            String args = String.join(" ", entry.getValue().args());
            int exitCode = entry.getValue().exitCode();
            double seconds = entry.getValue().seconds();
            allPassed &= exitCode == 0;
            String result = Path.of("target", benchmark.resultFile()).toString();
            System.out.printf(Locale.ROOT, "%-10s %-28s %6s %9.0f  %s%n", benchmark.name(), args,
                    exitCode == -1 ? "time" : Integer.toString(exitCode), seconds, result);
            json.append(String.format(Locale.ROOT, "  {\"benchmark\": \"%s\", \"mainClass\": \"%s\", \"arguments\": \"%s\", "
                            + "\"exitCode\": %d, \"seconds\": %.1f, \"results\": \"%s\"},%n", benchmark.name(),
                    benchmark.main().getName(), args, exitCode, seconds, result));
        }
        Examples.writeResults(json, "benchmarks.json");
        System.out.println(allPassed ? "all benchmarks passed" : "FAILED: a benchmark failed or ran out of time");
        return allPassed;
    }

    /**
     * The class path to start the benchmarks with. Under {@code mvn exec:java} the project's classes come from a
     * class loader of the plugin's, not from {@code java.class.path} (which is then Maven's own launcher).
     */
    private static String classPath() throws URISyntaxException {
        ClassLoader loader = Benchmarks.class.getClassLoader();
        if (loader instanceof URLClassLoader urls && urls.getURLs().length > 0) {
            List<String> entries = new ArrayList<>();
            for (URL url : urls.getURLs()) {
                entries.add(Path.of(url.toURI()).toString());
            }
            return String.join(File.pathSeparator, entries);
        }
        return System.getProperty("java.class.path");
    }
}
