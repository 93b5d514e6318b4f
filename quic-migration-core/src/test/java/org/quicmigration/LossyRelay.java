package org.quicmigration;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test relay on loopback: clients talk to {@link #address()}, the relay forwards to the server from its own
 * socket and sends the answers back to the client that spoke last. Each datagram, in either direction, is dropped
 * with the given probability (seeded, so runs are repeatable in what they drop if not in timing).
 */
final class LossyRelay implements AutoCloseable {

    private final DatagramSocket front;
    private final DatagramSocket back;
    private final InetSocketAddress server;
    private final double dropProbability;
    private final Random random;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile InetSocketAddress client;
    private volatile long serverToClientDelayMillis;
    private final java.util.concurrent.ScheduledExecutorService delayer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "relay-delay");
                thread.setDaemon(true);
                return thread;
            });

    LossyRelay(InetSocketAddress server, double dropProbability, long seed) throws SocketException {
        this.server = server;
        this.dropProbability = dropProbability;
        this.random = new Random(seed);
        this.front = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
        this.back = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
        front.setReceiveBufferSize(4 << 20);
        back.setReceiveBufferSize(4 << 20);
        start("relay-to-server", front, true);
        start("relay-to-client", back, false);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /** Delays every datagram from the server to the client by this much (0: none). */
    void delayServerToClient(long millis) {
        this.serverToClientDelayMillis = millis;
    }

    /** Sends {@code datagram} to the client's latest address as if the server had sent it. */
    void sendToClient(byte[] datagram) throws IOException {
        InetSocketAddress target = client;
        if (target == null) {
            throw new IllegalStateException("no client has sent anything yet");
        }
        front.send(new DatagramPacket(datagram, datagram.length, target));
    }

    long forwarded() {
        return forwarded.get();
    }

    long dropped() {
        return dropped.get();
    }

    private void start(String name, DatagramSocket from, boolean towardsServer) {
        Thread thread = new Thread(() -> pump(from, towardsServer), name);
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(DatagramSocket from, boolean towardsServer) {
        DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
        try {
            while (true) {
                packet.setLength(65_536);
                from.receive(packet);
                if (towardsServer) {
                    client = (InetSocketAddress) packet.getSocketAddress();
                }
                if (drop()) {
                    dropped.incrementAndGet();
                    continue;
                }
                InetSocketAddress target = towardsServer ? server : client;
                if (target == null) {
                    continue;
                }
                long delay = towardsServer ? 0 : serverToClientDelayMillis;
                if (delay > 0) {
                    byte[] copy = java.util.Arrays.copyOfRange(packet.getData(), 0, packet.getLength());
                    delayer.schedule(() -> {
                        try {
                            front.send(new DatagramPacket(copy, copy.length, target));
                            forwarded.incrementAndGet();
                        } catch (IOException e) {
                            // relay closed
                        }
                    }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
                    continue;
                }
                packet.setSocketAddress(target);
                (towardsServer ? back : front).send(packet);
                forwarded.incrementAndGet();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private boolean drop() {
        synchronized (random) {
            return random.nextDouble() < dropProbability;
        }
    }

    @Override
    public void close() {
        delayer.shutdownNow();
        front.close();
        back.close();
    }
}
