package org.quicmigration;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Linux's main routing tables as text ({@code /proc/net/route} and {@code /proc/net/ipv6_route}), without the
 * counters that change with traffic, for {@link SystemNetworkMonitor} to compare from poll to poll. Elsewhere, or
 * with more routes than a host that moves between networks has, it reads as empty (nothing to compare).
 */
final class KernelRoutes {

    private static final Path IPV4 = Path.of("/proc/net/route");
    private static final Path IPV6 = Path.of("/proc/net/ipv6_route");
    /** A full Internet table is megabytes; a phone's or laptop's a few lines. Beyond this, routes are not watched. */
    static final int MAX_BYTES = 64 * 1024;
    /** The reference-count and use columns: the only ones that change without a route changing. */
    private static final int IPV4_REFCNT = 4;
    private static final int IPV4_USE = 5;
    private static final int IPV6_REFCNT = 6;
    private static final int IPV6_USE = 7;

    private KernelRoutes() {
    }

    static String read() {
        String ipv4 = readBounded(IPV4);
        String ipv6 = readBounded(IPV6);
        if (ipv4.isEmpty() && ipv6.isEmpty()) {
            return "";
        }
        return withoutCounters(ipv4, IPV4_REFCNT, IPV4_USE) + "\n" + withoutCounters(ipv6, IPV6_REFCNT, IPV6_USE);
    }

    /** The file's text, or empty if it is missing, unreadable or larger than {@link #MAX_BYTES}. */
    private static String readBounded(Path file) {
        if (!Files.isReadable(file)) {
            return "";
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            return bytes.length > MAX_BYTES ? "" : new String(bytes, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    /** Each line's whitespace-separated columns, without columns {@code skipA} and {@code skipB}. */
    static String withoutCounters(String table, int skipA, int skipB) {
        StringBuilder out = new StringBuilder(table.length());
        for (String line : table.split("\n")) {
            String[] columns = line.trim().split("\\s+");
            for (int i = 0; i < columns.length; i++) {
                if (i != skipA && i != skipB) {
                    out.append(columns[i]).append(' ');
                }
            }
            out.append('\n');
        }
        return out.toString();
    }
}
