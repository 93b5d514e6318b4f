package org.quicmigration.examples;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test helper: runs an example's main in its own JVM, with a deadline, and returns its exit code and output. */
final class ExampleRunner {

    record Run(boolean finished, int exitCode, String output) {
    }

    private ExampleRunner() {
    }

    static Run run(Class<?> main, String... args) throws Exception {
        return runWithInput(main, "", args);
    }

    /** Runs {@code main} with {@code input} as its standard input (then closed). */
    static Run runWithInput(Class<?> main, String input, String... args) throws Exception {
        Process process = new ProcessBuilder(command(main, args)).redirectErrorStream(true).start();
        try (var stdin = process.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(finished, finished ? process.exitValue() : -1, output);
    }

    /** An example left running in the background (a server), its output collected as it comes. */
    static final class Background implements AutoCloseable {
        private final Process process;
        private final StringBuffer output = new StringBuffer();

        private Background(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        output.append(line).append('\n');
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
            }, "example-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits (at most {@code seconds}) for output matching {@code pattern}; returns the match's first group. */
        String await(java.util.regex.Pattern pattern, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                java.util.regex.Matcher matcher = pattern.matcher(output);
                if (matcher.find()) {
                    return matcher.groupCount() > 0 ? matcher.group(1) : matcher.group();
                }
                Thread.sleep(20); // polling interval of the condition, not synchronisation
            }
            throw new AssertionError("no output matching " + pattern + " within " + seconds + " s; output:\n" + output);
        }

        String output() {
            return output.toString();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    static Background start(Class<?> main, String... args) throws Exception {
        return new Background(new ProcessBuilder(command(main, args)).redirectErrorStream(true).start());
    }

    private static List<String> command(Class<?> main, String... args) {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
