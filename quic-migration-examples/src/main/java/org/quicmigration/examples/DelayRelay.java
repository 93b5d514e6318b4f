package org.quicmigration.examples;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A UDP relay on loopback that adds a fixed one-way delay in each direction, like a network path with a longer
 * round trip. Each client address gets its own socket towards the server (as a NAT would), so a client that
 * changes address through the relay is seen by the server as changing address too.
 *
 * <p>Only forwards between loopback addresses. Thread-safe; {@link #close()} stops it.
 */
public final class DelayRelay implements AutoCloseable {

    private final DatagramSocket front;
    private final InetSocketAddress server;
    private final long delayNanos;
    private final Map<InetSocketAddress, DatagramSocket> backByClient = new ConcurrentHashMap<>();
    private final ScheduledExecutorService delayer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "delay-relay");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean closed;
    private volatile java.net.InetAddress blackHoled;

    /**
     * @param server       where to forward (a loopback address)
     * @param oneWayMillis delay added in each direction
     */
    public DelayRelay(InetSocketAddress server, long oneWayMillis) throws SocketException {
        if (!server.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the relay only forwards to loopback, not " + server);
        }
        this.server = server;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(oneWayMillis);
        this.front = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
        front.setReceiveBufferSize(4 << 20);
        start("delay-relay-in", () -> pumpFromClients());
    }

    /**
     * From now on, silently drops everything from and to clients on {@code address}, as a network that went dark
     * would (null: none).
     */
    public void blackHole(java.net.InetAddress address) {
        this.blackHoled = address;
    }

    /** Where clients send to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    private void pumpFromClients() {
        byte[] buffer = new byte[65_536];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        while (!closed) {
            try {
                packet.setLength(buffer.length);
                front.receive(packet);
                InetSocketAddress client = (InetSocketAddress) packet.getSocketAddress();
                if (client.getAddress().equals(blackHoled)) {
                    continue;
                }
                DatagramSocket back = backByClient.computeIfAbsent(client, this::openBack);
                forwardLater(back, packet, server);
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    System.err.println("relay: " + e);
                }
            }
        }
    }

    private DatagramSocket openBack(InetSocketAddress client) {
        try {
            DatagramSocket back = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
            back.setReceiveBufferSize(4 << 20);
            start("delay-relay-out", () -> {
                byte[] buffer = new byte[65_536];
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                while (!closed && !back.isClosed()) {
                    try {
                        packet.setLength(buffer.length);
                        back.receive(packet);
                        if (!client.getAddress().equals(blackHoled)) {
                            forwardLater(front, packet, client);
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            return back;
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
    }

    private void forwardLater(DatagramSocket via, DatagramPacket packet, InetSocketAddress to) {
        byte[] copy = java.util.Arrays.copyOfRange(packet.getData(), 0, packet.getLength());
        Runnable send = () -> {
            try {
                via.send(new DatagramPacket(copy, copy.length, to));
            } catch (IOException e) {
                // closed, or the destination is gone: a lost datagram
            }
        };
        if (delayNanos == 0) {
            send.run();
        } else {
            try {
                delayer.schedule(send, delayNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the relay is closing: the datagram is lost, as on a network that went away
            }
        }
    }

    private static void start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        closed = true;
        delayer.shutdownNow();
        front.close();
        backByClient.values().forEach(DatagramSocket::close);
    }
}
