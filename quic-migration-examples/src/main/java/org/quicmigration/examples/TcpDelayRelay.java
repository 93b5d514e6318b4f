package org.quicmigration.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on loopback that adds a one-way delay in each direction, the TCP counterpart of
 * {@link NetworkEmulator} for comparisons. A new connection's first bytes wait one extra round trip, the cost of
 * the TCP handshake that loopback makes free. {@link #outage} cuts every connection from a client address at once, as
 * a network that went away does to TCP (its connections cannot move). Only forwards to loopback.
 */
public final class TcpDelayRelay implements AutoCloseable {

    private final ServerSocket front;
    private final InetSocketAddress server;
    private final long delayNanos;
    private final Map<Socket, Socket> connections = new ConcurrentHashMap<>(); // client side -> server side
    private volatile boolean closed;

    public TcpDelayRelay(InetSocketAddress server, long oneWayMillis) throws IOException {
        this(server, oneWayMillis, server.getAddress());
    }

    /**
     * A relay that clients reach at {@code listenOn}: the server's loopback address, or an address a test network
     * namespace gave this process (the emulator's rules: loopback or 198.18.0.0/15).
     */
    public TcpDelayRelay(InetSocketAddress server, long oneWayMillis, InetAddress listenOn) throws IOException {
        if (!server.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the relay only forwards to loopback, not " + server);
        }
        NetworkEmulator.requireLoopbackOrBenchmarking(listenOn);
        this.server = server;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(oneWayMillis);
        this.front = new ServerSocket(0, 50, listenOn);
        start("tcp-delay-relay-accept", this::accept);
    }

    /** Where clients connect to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /** Cuts every connection from {@code clientAddress}: what was on its way is lost. */
    public void outage(InetAddress clientAddress) {
        connections.forEach((client, upstream) -> {
            if (client.getInetAddress().equals(clientAddress)) {
                closeQuietly(client);
                closeQuietly(upstream);
                connections.remove(client);
            }
        });
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = front.accept();
                client.setTcpNoDelay(true);
                Socket upstream = new Socket(server.getAddress(), server.getPort());
                upstream.setTcpNoDelay(true);
                connections.put(client, upstream);
                // The kernel completed the client's TCP handshake with this relay at once; a real path costs a round
                // trip (SYN, SYN-ACK) before the client's first byte can leave. So the relay starts reading what the
                // client sent only one round trip after the accept.
                start("tcp-delay-relay-up", () -> {
                    try {
                        TimeUnit.NANOSECONDS.sleep(2 * delayNanos);
                    } catch (InterruptedException e) {
                        return;
                    }
                    pump(client, upstream);
                });
                start("tcp-delay-relay-down", () -> pump(upstream, client));
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("tcp relay: " + e);
                }
            }
        }
    }

    /**
     * Copies {@code from} to {@code to}, each chunk {@code delay} later. One single-threaded scheduler per direction
     * keeps the chunks in order (equal delays run in submission order) and lets a blocked receiver slow only its own
     * direction, as TCP flow control would.
     */
    private void pump(Socket from, Socket to) {
        ScheduledExecutorService delayer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tcp-delay-relay-delay");
            thread.setDaemon(true);
            return thread;
        });
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                byte[] chunk = java.util.Arrays.copyOf(buffer, n);
                delayer.schedule(() -> {
                    try {
                        out.write(chunk);
                    } catch (IOException e) {
                        closeQuietly(from);
                    }
                }, delayNanos, TimeUnit.NANOSECONDS);
            }
            delayer.schedule(() -> closeQuietly(to), delayNanos, TimeUnit.NANOSECONDS);
        } catch (IOException | java.util.concurrent.RejectedExecutionException e) {
            closeQuietly(to);
        } finally {
            delayer.shutdown(); // runs what is scheduled, then ends its thread
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }

    private static void start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        front.close();
        connections.forEach((client, upstream) -> {
            closeQuietly(client);
            closeQuietly(upstream);
        });
    }
}
