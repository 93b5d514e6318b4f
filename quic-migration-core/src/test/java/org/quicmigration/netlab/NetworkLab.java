package org.quicmigration.netlab;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real two-network client and a server, built from Linux network namespaces and veth links (root only).
 *
 * <pre>
 *   this namespace (the client)              namespace qm-lab-N (the server)
 *   qmNw 198.18.K.2/24  &lt;-- veth "Wi-Fi" --&gt;  qmNwp 198.18.K.1/24
 *   qmNc 198.18.K+1.2/24 &lt;-- veth "cell" --&gt;  qmNcp 198.18.K+1.1/24
 *                                            lo    198.18.K+2.1/32 (the server address)
 * </pre>
 *
 * The server address is reachable over both links: per source address through its own routing table (policy
 * routing, as a multi-homed phone does), and without a source through Wi-Fi (metric 100) before cellular (200), so
 * the kernel's choice is Wi-Fi. Each source's table ends in "unreachable", so a source whose link is down gets an
 * error instead of leaking out another interface. Only 198.18.0.0/15 is used, and the server namespace has no route
 * to anything else.
 *
 * <p>Everything is deleted by {@link #close()}, by a shutdown hook if the JVM exits first, and by the sweep of labs
 * left by dead processes that every new lab runs first.
 */
public final class NetworkLab implements AutoCloseable {

    private static final String PREFIX = "qm-lab-";
    private static final int RULE_PREF_BASE = 21_000;

    private final int id;
    private final int third;
    private final String namespace;
    private final String wifi;
    private final String cell;
    private final Thread cleanupHook;
    private final List<Process> processes = new ArrayList<>();
    private boolean closed;

    private NetworkLab(int id) {
        this.id = id;
        this.third = 4 * (id % 60) + 8;
        this.namespace = PREFIX + id;
        this.wifi = "qm" + id + "w";
        this.cell = "qm" + id + "c";
        this.cleanupHook = new Thread(this::deleteQuietly, "network-lab-cleanup");
    }

    /** Why a lab cannot be built here, or null if it can (root and the {@code ip} command). */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespace tests need root (user is " + System.getProperty("user.name") + ")";
        }
        try {
            Process process = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
            if (!process.waitFor(5, TimeUnit.SECONDS) || process.exitValue() != 0) {
                return "`ip netns list` failed";
            }
        } catch (IOException e) {
            return "the ip command (iproute2) is missing: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    /** True if the nft command (nftables) is there, for black holes. */
    public static boolean hasNftables() {
        try {
            Process process = new ProcessBuilder("nft", "--version").redirectErrorStream(true).start();
            return process.waitFor(5, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Builds a lab; the caller closes it. */
    public static NetworkLab create() throws IOException {
        sweepStale();
        int id = (int) (ProcessHandle.current().pid() % 100_000);
        NetworkLab lab = new NetworkLab(id);
        Runtime.getRuntime().addShutdownHook(lab.cleanupHook);
        try {
            lab.deleteQuietly(); // a lab of an earlier one with the same id in this JVM
            lab.build();
            return lab;
        } catch (IOException | RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    private void build() throws IOException {
        run("ip", "netns", "add", namespace);
        run("ip", "link", "add", wifi, "type", "veth", "peer", "name", wifi + "p");
        run("ip", "link", "add", cell, "type", "veth", "peer", "name", cell + "p");
        run("ip", "link", "set", wifi + "p", "netns", namespace);
        run("ip", "link", "set", cell + "p", "netns", namespace);
        inServer("ip", "link", "set", "lo", "up");
        inServer("ip", "addr", "add", net(2) + ".1/32", "dev", "lo");
        inServer("ip", "addr", "add", net(0) + ".1/24", "dev", wifi + "p");
        inServer("ip", "addr", "add", net(1) + ".1/24", "dev", cell + "p");
        inServer("ip", "link", "set", wifi + "p", "up");
        inServer("ip", "link", "set", cell + "p", "up");
        run("ip", "link", "set", wifi, "up");
        run("ip", "link", "set", cell, "up");
        addWifiAddress();
        addCellAddress();
        run("ip", "rule", "add", "from", net(0) + ".2", "lookup", String.valueOf(table(0)), "pref", String.valueOf(table(0)));
        run("ip", "rule", "add", "from", net(1) + ".2", "lookup", String.valueOf(table(1)), "pref", String.valueOf(table(1)));
        for (int link = 0; link < 2; link++) {
            run("ip", "route", "add", "unreachable", "198.18.0.0/15", "metric", "9999", "table", String.valueOf(table(link)));
        }
        routeWifi();
        routeCell();
    }

    private String net(int offset) {
        return "198.18." + (third + offset);
    }

    private int table(int link) {
        return RULE_PREF_BASE + 2 * (id % 500) + link;
    }

    /** The client's Wi-Fi address. */
    public InetAddress wifiAddress() {
        return address(net(0) + ".2");
    }

    /** The client's cellular address. */
    public InetAddress cellAddress() {
        return address(net(1) + ".2");
    }

    /** The server's address, reachable over both links. */
    public InetAddress serverAddress() {
        return address(net(2) + ".1");
    }

    public String wifiInterface() {
        return wifi;
    }

    public String cellInterface() {
        return cell;
    }

    /** Removes the client's Wi-Fi address, as leaving a Wi-Fi network does. */
    public void removeWifiAddress() throws IOException {
        run("ip", "addr", "del", net(0) + ".2/24", "dev", wifi);
    }

    /** Gives the client its Wi-Fi address and routes back. */
    public void restoreWifiAddress() throws IOException {
        addWifiAddress();
        routeWifi();
    }

    /** Gives the client its Wi-Fi address back without the routes over it (DHCP's address before its routes). */
    public void addWifiAddressOnly() throws IOException {
        addWifiAddress();
    }

    /** Routes to the server over Wi-Fi again, its address being there. */
    public void restoreWifiRoutes() throws IOException {
        routeWifi();
    }

    public void removeCellAddress() throws IOException {
        run("ip", "addr", "del", net(1) + ".2/24", "dev", cell);
    }

    public void restoreCellAddress() throws IOException {
        addCellAddress();
        routeCell();
    }

    /** Takes the client's Wi-Fi link down (the address stays, the routes go). */
    public void wifiLinkDown() throws IOException {
        run("ip", "link", "set", wifi, "down");
    }

    public void wifiLinkUp() throws IOException {
        run("ip", "link", "set", wifi, "up");
        routeWifi();
    }

    /**
     * The far end of the Wi-Fi link silently drops everything, both ways, at the device (netdev ingress and egress
     * hooks): every send on either side still succeeds, nothing arrives.
     */
    public void blackHoleWifi() throws IOException {
        String device = wifi + "p";
        inServer("nft", "add", "table", "netdev", "qmlab");
        inServer("nft", "add", "chain", "netdev", "qmlab", "in", "{ type filter hook ingress device " + device + " priority 0 ; }");
        inServer("nft", "add", "chain", "netdev", "qmlab", "out", "{ type filter hook egress device " + device + " priority 0 ; }");
        inServer("nft", "add", "rule", "netdev", "qmlab", "in", "drop");
        inServer("nft", "add", "rule", "netdev", "qmlab", "out", "drop");
    }

    /**
     * The server's firewall refuses everything on the Wi-Fi link: what arrives there is dropped, and every send the
     * server makes there fails with EPERM.
     */
    public void refuseWifiAtServer() throws IOException {
        inServer("nft", "add", "table", "inet", "qmlab");
        inServer("nft", "add", "chain", "inet", "qmlab", "in", "{ type filter hook input priority 0 ; }");
        inServer("nft", "add", "chain", "inet", "qmlab", "out", "{ type filter hook output priority 0 ; }");
        inServer("nft", "add", "rule", "inet", "qmlab", "in", "iifname", wifi + "p", "drop");
        inServer("nft", "add", "rule", "inet", "qmlab", "out", "oifname", wifi + "p", "drop");
    }

    /** Puts both networks back as built, whatever a test did to them. */
    public void restoreAll() throws IOException {
        runQuietly("ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", "qmlab");
        runQuietly("ip", "netns", "exec", namespace, "nft", "delete", "table", "netdev", "qmlab");
        run("ip", "link", "set", wifi, "up");
        run("ip", "link", "set", cell, "up");
        restoreWifiAddress();
        restoreCellAddress();
    }

    /**
     * Starts {@code mainClass} with this JVM's class path inside the server namespace and returns it; it is killed
     * when the lab closes.
     */
    public Process startInServer(Class<?> mainClass, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                System.getProperty("java.home") + "/bin/java", "-cp", classPath(mainClass), mainClass.getName()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        return process;
    }

    /**
     * The class path {@code mainClass} was loaded from: its class loader's URLs where it has them (Maven's exec:java
     * runs a program in a class loader of its own), else this JVM's class path.
     */
    private static String classPath(Class<?> mainClass) {
        List<String> entries = new ArrayList<>();
        for (ClassLoader loader = mainClass.getClassLoader(); loader != null; loader = loader.getParent()) {
            if (loader instanceof java.net.URLClassLoader urls) {
                for (java.net.URL url : urls.getURLs()) {
                    if ("file".equals(url.getProtocol())) {
                        try {
                            entries.add(java.nio.file.Path.of(url.toURI()).toString());
                        } catch (java.net.URISyntaxException e) {
                            // not a path: skip it
                        }
                    }
                }
            }
        }
        entries.add(System.getProperty("java.class.path"));
        return String.join(java.io.File.pathSeparator, entries);
    }

    private void addWifiAddress() throws IOException {
        run("ip", "addr", "replace", net(0) + ".2/24", "dev", wifi);
    }

    private void addCellAddress() throws IOException {
        run("ip", "addr", "replace", net(1) + ".2/24", "dev", cell);
    }

    private void routeWifi() throws IOException {
        run("ip", "route", "replace", net(2) + ".1/32", "via", net(0) + ".1", "dev", wifi, "table", String.valueOf(table(0)));
        run("ip", "route", "replace", net(2) + ".1/32", "via", net(0) + ".1", "dev", wifi, "metric", "100");
    }

    private void routeCell() throws IOException {
        run("ip", "route", "replace", net(2) + ".1/32", "via", net(1) + ".1", "dev", cell, "table", String.valueOf(table(1)));
        run("ip", "route", "replace", net(2) + ".1/32", "via", net(1) + ".1", "dev", cell, "metric", "200");
    }

    private void inServer(String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        run(full.toArray(String[]::new));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        deleteQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs anyway
        }
    }

    private void deleteQuietly() {
        for (Process process : processes) {
            process.destroyForcibly();
        }
        delete(namespace, id);
    }

    /** Deletes the namespace (its veth peers go with it, and so do ours) and the routing rules of lab {@code id}. */
    private static void delete(String namespace, int id) {
        runQuietly("ip", "netns", "del", namespace);
        runQuietly("ip", "link", "del", "qm" + id + "w");
        runQuietly("ip", "link", "del", "qm" + id + "c");
        for (int link = 0; link < 2; link++) {
            int table = RULE_PREF_BASE + 2 * (id % 500) + link;
            runQuietly("ip", "rule", "del", "pref", String.valueOf(table));
            runQuietly("ip", "route", "flush", "table", String.valueOf(table));
        }
    }

    /** Deletes the labs of processes that no longer run (a JVM killed before its hooks ran). */
    private static void sweepStale() {
        String listing;
        try {
            listing = output("ip", "netns", "list");
        } catch (IOException e) {
            return;
        }
        for (String line : listing.split("\n")) {
            String name = line.split(" ")[0].trim();
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            try {
                int id = Integer.parseInt(name.substring(PREFIX.length()));
                boolean alive = ProcessHandle.of(id).map(ProcessHandle::isAlive).orElse(false)
                        && id != ProcessHandle.current().pid() % 100_000;
                if (!alive) {
                    delete(name, id);
                }
            } catch (NumberFormatException e) {
                // not one of ours
            }
        }
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + process.exitValue() + "): " + output.trim());
        }
    }

    private static void runQuietly(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // best effort
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String output(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return text;
    }
}
