package org.quicmigration;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test relay on loopback that plays a NAT on a bad network, for the chaos soak. The client talks to
 * {@link #address()}; each inside address the client sends from gets its own outside binding (a socket of the
 * relay), so the server sees a client that migrates as a new address, as behind a real NAT. {@link #rebind} gives
 * the latest inside address a new binding and closes the old one, so the server's datagrams to it are lost. Every
 * datagram in either direction goes through the current {@link Impairment}: dropped, duplicated, and delayed with
 * jitter (which reorders). The bindings are bounded; the oldest is closed when a new one would exceed the bound.
 */
final class ChaosRelay implements AutoCloseable {

    /** What the network does to each datagram; delays in microseconds, jitter uniform in [0, jitter). */
    record Impairment(double drop, double duplicate, long delayMicros, long jitterMicros) {
        static final Impairment NONE = new Impairment(0, 0, 0, 0);

        @Override
        public String toString() {
            return String.format("drop %.1f %%, duplicate %.1f %%, delay %.1f ms + jitter %.1f ms", drop * 100,
                    duplicate * 100, delayMicros / 1000.0, jitterMicros / 1000.0);
        }
    }

    private static final int MAX_BINDINGS = 8;

    private final DatagramSocket front;
    private final InetSocketAddress server;
    private final Random random;
    private final ScheduledExecutorService delayer;
    private final Map<InetSocketAddress, DatagramSocket> bindings = new LinkedHashMap<>();
    private volatile Impairment impairment = Impairment.NONE;
    private volatile InetSocketAddress latestInside;
    private volatile boolean closed;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong duplicated = new AtomicLong();
    private final AtomicLong rebinds = new AtomicLong();

    ChaosRelay(InetSocketAddress server, long seed) throws SocketException {
        this.server = server;
        this.random = new Random(seed);
        this.front = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0));
        front.setReceiveBufferSize(4 << 20);
        this.delayer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "chaos-relay-delay");
            thread.setDaemon(true);
            return thread;
        });
        start("chaos-relay-to-server", this::pumpToServer);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    void impair(Impairment impairment) {
        this.impairment = impairment;
    }

    Impairment impairment() {
        return impairment;
    }

    /**
     * The NAT gives the client's latest inside address a new binding on {@code outside} (a new port; a new address
     * if it differs); the old binding stops working at once. Returns false if the client has not sent anything yet.
     */
    boolean rebind(InetAddress outside) throws SocketException {
        InetSocketAddress inside = latestInside;
        if (inside == null) {
            return false;
        }
        DatagramSocket fresh = openBinding(outside, inside);
        DatagramSocket old;
        synchronized (bindings) {
            old = bindings.put(inside, fresh);
        }
        if (old != null) {
            old.close();
        }
        rebinds.incrementAndGet();
        return true;
    }

    long forwarded() {
        return forwarded.get();
    }

    long dropped() {
        return dropped.get();
    }

    long duplicated() {
        return duplicated.get();
    }

    long rebinds() {
        return rebinds.get();
    }

    /** The relay's state in one line, for reports. */
    String describe() {
        synchronized (bindings) {
            StringBuilder text = new StringBuilder();
            bindings.forEach((inside, outside) -> text.append(inside).append(" -> ")
                    .append(outside.getLocalSocketAddress()).append("; "));
            return String.format("%s; forwarded %d, dropped %d, duplicated %d, rebinds %d; bindings: %s", impairment,
                    forwarded(), dropped(), duplicated(), rebinds(), text);
        }
    }

    private void pumpToServer() {
        DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
        try {
            while (true) {
                packet.setLength(65_536);
                front.receive(packet);
                InetSocketAddress inside = (InetSocketAddress) packet.getSocketAddress();
                latestInside = inside;
                DatagramSocket binding = bindingFor(inside);
                if (binding != null) {
                    pass(packet, binding, server);
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void pumpToClient(DatagramSocket binding, InetSocketAddress inside) {
        DatagramPacket packet = new DatagramPacket(new byte[65_536], 65_536);
        try {
            while (true) {
                packet.setLength(65_536);
                binding.receive(packet);
                pass(packet, front, inside);
            }
        } catch (IOException e) {
            // closed by a rebinding, by eviction or by close()
        }
    }

    /** The binding of {@code inside}, a new one if it has none (evicting the oldest beyond the bound). */
    private DatagramSocket bindingFor(InetSocketAddress inside) throws SocketException {
        synchronized (bindings) {
            DatagramSocket binding = bindings.get(inside);
            if (binding != null || closed) {
                return binding;
            }
            if (bindings.size() >= MAX_BINDINGS) {
                Iterator<DatagramSocket> oldest = bindings.values().iterator();
                oldest.next().close();
                oldest.remove();
            }
            binding = openBinding(server.getAddress(), inside);
            bindings.put(inside, binding);
            return binding;
        }
    }

    private DatagramSocket openBinding(InetAddress outside, InetSocketAddress inside) throws SocketException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(outside, 0));
        socket.setReceiveBufferSize(4 << 20);
        start("chaos-relay-to-client", () -> pumpToClient(socket, inside));
        return socket;
    }

    /** Sends a copy of {@code packet} from {@code via} to {@code target}, as the current impairment says. */
    private void pass(DatagramPacket packet, DatagramSocket via, InetSocketAddress target) {
        Impairment now = impairment;
        long firstDelay;
        long secondDelay = -1;
        synchronized (random) {
            if (random.nextDouble() < now.drop()) {
                dropped.incrementAndGet();
                return;
            }
            firstDelay = delay(now);
            if (random.nextDouble() < now.duplicate()) {
                secondDelay = delay(now);
            }
        }
        byte[] copy = Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
        schedule(copy, via, target, firstDelay);
        if (secondDelay >= 0) {
            duplicated.incrementAndGet();
            schedule(copy, via, target, secondDelay);
        }
    }

    private long delay(Impairment now) {
        return now.delayMicros() + (now.jitterMicros() > 0 ? (long) (random.nextDouble() * now.jitterMicros()) : 0);
    }

    private void schedule(byte[] datagram, DatagramSocket via, InetSocketAddress target, long delayMicros) {
        Runnable send = () -> {
            try {
                via.send(new DatagramPacket(datagram, datagram.length, target));
                forwarded.incrementAndGet();
            } catch (IOException e) {
                // the binding was replaced or the relay closed: lost, as on a real network
            }
        };
        if (delayMicros == 0) {
            send.run();
            return;
        }
        try {
            delayer.schedule(send, delayMicros, TimeUnit.MICROSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private static void start(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        closed = true;
        delayer.shutdownNow();
        front.close();
        synchronized (bindings) {
            bindings.values().forEach(DatagramSocket::close);
            bindings.clear();
        }
    }
}
