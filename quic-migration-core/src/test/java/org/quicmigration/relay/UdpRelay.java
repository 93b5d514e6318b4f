package org.quicmigration.relay;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP relay on loopback between clients (the inside) and one server, for tests and examples: a NAT whose network
 * is a {@link Policy} per direction. Clients send to {@link #address()}; the relay forwards to the server from an
 * outside socket, a binding, and forwards what the server sends to a binding back to its client. With
 * {@link Mapping#SHARED} all clients share one binding and the server's datagrams go to the inside address that sent
 * last (the server does not see a client change address); with {@link Mapping#PER_INSIDE_ADDRESS} each inside
 * address gets a binding of its own, as behind a real NAT. {@link #rebindLatest} and {@link #rebindAll} replace
 * bindings with new ones (a new port, and a new address if asked) and drop or keep the old ones.
 *
 * <p>Threading: one I/O thread (named as the relay) receives on all of the relay's sockets through a selector, runs
 * the policies and sends the copies they do not delay at once; delayed copies are sent by one timer thread
 * ({@code <name>-delay}, started on the first delay) when due. Rebinds and queries run on the I/O thread, the caller
 * waiting for them. Both threads are daemons; {@link #close()} stops them. Every socket binds port 0 on a loopback
 * address. Thread-safe.
 */
public final class UdpRelay implements AutoCloseable {

    /** How inside addresses map to bindings. */
    public enum Mapping { SHARED, PER_INSIDE_ADDRESS }

    /** What happens to a binding that a rebind replaces. */
    public enum OldBinding {
        /** Closed at once: what the server still sends to it is lost. */
        DROP,
        /** Kept open (until close): what the server sends to it still reaches the client. */
        KEEP
    }

    /** Datagrams read from one socket before the others get their turn; more than a socket buffer holds. */
    private static final int MAX_READS_PER_TURN = 4_096;
    /** Kept bindings, at most; the oldest is closed beyond. */
    private static final int MAX_KEPT = 64;
    private static final long TASK_DEADLINE_SECONDS = 10;
    private static final InetSocketAddress SHARED_KEY = InetSocketAddress.createUnresolved("shared", 0);

    private final String name;
    private final InetSocketAddress server;
    private final Mapping mapping;
    private final int maxBindings;
    private final int outsideReceiveBuffer;
    private final Policy toServer;
    private final Policy toClient;
    private final Selector selector;
    private final DatagramChannel front;
    private final Thread ioThread;
    private final ScheduledThreadPoolExecutor timer;
    private final ConcurrentLinkedQueue<FutureTask<?>> tasks = new ConcurrentLinkedQueue<>();
    // The NAT table and the kept bindings: I/O thread only.
    private final Map<InetSocketAddress, Binding> bindings = new LinkedHashMap<>();
    private final ArrayDeque<Binding> kept = new ArrayDeque<>();
    private InetAddress outsideAddress;
    private volatile InetSocketAddress latestInside;
    private volatile boolean closed;
    private volatile RuntimeException failure;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong duplicated = new AtomicLong();
    private final AtomicLong rebinds = new AtomicLong();

    /** An outside socket and the inside address it belongs to (unused with {@link Mapping#SHARED}). */
    private record Binding(DatagramChannel channel, InetSocketAddress outside, InetSocketAddress inside) {
    }

    /** Settings of a {@link UdpRelay}. */
    public static final class Builder {
        private final InetSocketAddress server;
        private String name = "udp-relay";
        private Mapping mapping = Mapping.SHARED;
        private InetAddress outside;
        private int maxBindings = Integer.MAX_VALUE;
        private int insideReceiveBuffer = 4 << 20;
        private int outsideReceiveBuffer = 4 << 20;
        private Policy toServer = Policy.PASS;
        private Policy toClient = Policy.PASS;

        private Builder(InetSocketAddress server) {
            this.server = requireLoopback(server);
            this.outside = server.getAddress();
        }

        /** The name of the relay's I/O thread, and the start of its timer thread's. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** {@link Mapping#SHARED} (the default) or a binding per inside address. */
        public Builder mapping(Mapping mapping) {
            this.mapping = Objects.requireNonNull(mapping, "mapping");
            return this;
        }

        /** The loopback address bindings open on until {@link #rebindAll} moves them; the server's by default. */
        public Builder outside(InetAddress address) {
            this.outside = requireLoopback(new InetSocketAddress(address, 0)).getAddress();
            return this;
        }

        /** At most this many bindings; a new inside address beyond it closes the oldest binding. */
        public Builder maxBindings(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("at least one binding, not " + max);
            }
            this.maxBindings = max;
            return this;
        }

        /** SO_RCVBUF of the socket clients send to and of every binding; 0 leaves the system's default. */
        public Builder receiveBuffers(int inside, int outside) {
            this.insideReceiveBuffer = inside;
            this.outsideReceiveBuffer = outside;
            return this;
        }

        /** What the network does to datagrams from clients to the server. */
        public Builder toServer(Policy policy) {
            this.toServer = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** What the network does to datagrams from the server to clients. */
        public Builder toClient(Policy policy) {
            this.toClient = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Opens the relay's sockets and starts forwarding. */
        public UdpRelay start() throws IOException {
            return new UdpRelay(this);
        }
    }

    /** A relay in front of {@code server}, a loopback address. */
    public static Builder builder(InetSocketAddress server) {
        return new Builder(server);
    }

    private UdpRelay(Builder builder) throws IOException {
        this.name = builder.name;
        this.server = builder.server;
        this.mapping = builder.mapping;
        this.maxBindings = builder.maxBindings;
        this.outsideReceiveBuffer = builder.outsideReceiveBuffer;
        this.toServer = builder.toServer;
        this.toClient = builder.toClient;
        this.outsideAddress = builder.outside;
        this.selector = Selector.open();
        this.front = DatagramChannel.open().bind(new InetSocketAddress(server.getAddress(), 0));
        if (builder.insideReceiveBuffer > 0) {
            front.setOption(StandardSocketOptions.SO_RCVBUF, builder.insideReceiveBuffer);
        }
        front.configureBlocking(false);
        front.register(selector, SelectionKey.OP_READ, null);
        if (mapping == Mapping.SHARED) {
            bindings.put(SHARED_KEY, openBinding(outsideAddress, null));
        }
        this.timer = new ScheduledThreadPoolExecutor(1, runnable -> daemon(runnable, name + "-delay"));
        timer.setRemoveOnCancelPolicy(true);
        this.ioThread = daemon(this::run, name);
        ioThread.start();
    }

    /** Where clients send to. */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) front.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException("relay " + name + " is closed", e);
        }
    }

    /** The inside address that sent last, or null before any. */
    public InetSocketAddress latestInside() {
        return latestInside;
    }

    /** The outside addresses of the bindings clients send through now, oldest first (kept bindings not included). */
    public List<InetSocketAddress> bindingAddresses() {
        return query(() -> bindings.values().stream().map(Binding::outside).toList());
    }

    /** The NAT table in one line: each inside address and its binding. */
    public String describeBindings() {
        if (closed) {
            return "none (relay closed" + (failure != null ? ", stopped by " + failure : "") + ")";
        }
        return query(() -> {
            StringBuilder text = new StringBuilder();
            bindings.forEach((inside, binding) -> text.append(inside == SHARED_KEY ? "all (latest " + latestInside + ")"
                    : inside).append(" -> ").append(binding.outside()).append("; "));
            return text.toString();
        });
    }

    /**
     * Gives the latest inside address's binding (the one binding with {@link Mapping#SHARED}) a new one on
     * {@code outside}; returns false if no client has sent anything yet. Throws if a socket cannot be opened.
     */
    public boolean rebindLatest(InetAddress outside, OldBinding old) throws IOException {
        requireLoopback(new InetSocketAddress(outside, 0));
        return call(() -> {
            InetSocketAddress key = mapping == Mapping.SHARED ? SHARED_KEY : latestInside;
            if (key == null || !bindings.containsKey(key)) {
                return false;
            }
            rebind(key, outside, old);
            return true;
        });
    }

    /**
     * Gives every binding a new one on {@code outside}, where bindings for new inside addresses open from now on too;
     * returns how many were replaced. Throws if a socket cannot be opened.
     */
    public int rebindAll(InetAddress outside, OldBinding old) throws IOException {
        requireLoopback(new InetSocketAddress(outside, 0));
        return call(() -> {
            outsideAddress = outside;
            List<InetSocketAddress> keys = new ArrayList<>(bindings.keySet());
            for (InetSocketAddress key : keys) {
                rebind(key, outside, old);
            }
            return keys.size();
        });
    }

    /** Sends {@code datagram} to the inside address that sent last, as if the server had sent it, past the policy. */
    public void sendToLatestInside(byte[] datagram) throws IOException {
        InetSocketAddress target = latestInside;
        if (target == null) {
            throw new IllegalStateException("no client has sent anything to relay " + name + " yet");
        }
        front.send(ByteBuffer.wrap(datagram), target);
    }

    /** Datagram copies sent so far, both directions. */
    public long forwarded() {
        return forwarded.get();
    }

    /** Datagrams a policy dropped, or that found no socket for a new binding, so far, both directions. */
    public long dropped() {
        return dropped.get();
    }

    /** Extra copies the policies made so far, both directions. */
    public long duplicated() {
        return duplicated.get();
    }

    /** Bindings replaced by rebinds so far. */
    public long rebinds() {
        return rebinds.get();
    }

    /** What stopped the relay: a policy that threw, or a failure of its own; null while it runs or after close. */
    public RuntimeException failure() {
        return failure;
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        try {
            while (!closed) {
                selector.select();
                FutureTask<?> task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isValid()) {
                        receive(key, buffer);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                stop(new UncheckedIOException("relay " + name + " failed", e instanceof IOException io ? io
                        : new IOException(e)));
            }
        } catch (RuntimeException e) {
            stop(e);
        } finally {
            closeSockets();
        }
    }

    private void receive(SelectionKey key, ByteBuffer buffer) {
        DatagramChannel channel = (DatagramChannel) key.channel();
        for (int reads = 0; reads < MAX_READS_PER_TURN; reads++) {
            buffer.clear();
            SocketAddress from;
            try {
                from = channel.receive(buffer);
            } catch (IOException e) {
                return; // a binding closed by a rebinding or an eviction
            }
            if (from == null) {
                return;
            }
            buffer.flip();
            if (channel == front) {
                InetSocketAddress inside = (InetSocketAddress) from;
                latestInside = inside;
                Binding binding;
                try {
                    binding = bindingFor(inside);
                } catch (IOException e) {
                    dropped.incrementAndGet(); // no socket for a binding (out of file descriptors): lost
                    continue;
                }
                pass(toServer, Datagram.Direction.TO_SERVER, inside, binding, buffer, binding.channel(), server);
            } else {
                Binding binding = (Binding) key.attachment();
                InetSocketAddress inside = mapping == Mapping.SHARED ? latestInside : binding.inside();
                pass(toClient, Datagram.Direction.TO_CLIENT, inside, binding, buffer, front, inside);
            }
        }
    }

    /** The binding of {@code inside}, a new one if it has none (closing the oldest beyond the bound). */
    private Binding bindingFor(InetSocketAddress inside) throws IOException {
        InetSocketAddress key = mapping == Mapping.SHARED ? SHARED_KEY : inside;
        Binding binding = bindings.get(key);
        if (binding != null) {
            return binding;
        }
        if (bindings.size() >= maxBindings) {
            Iterator<Binding> oldest = bindings.values().iterator();
            oldest.next().channel().close();
            oldest.remove();
        }
        binding = openBinding(outsideAddress, inside);
        bindings.put(key, binding);
        return binding;
    }

    private void rebind(InetSocketAddress key, InetAddress outside, OldBinding old) throws IOException {
        Binding replaced = bindings.get(key);
        bindings.put(key, openBinding(outside, replaced.inside()));
        rebinds.incrementAndGet();
        if (old == OldBinding.DROP) {
            replaced.channel().close();
            return;
        }
        kept.addLast(replaced);
        if (kept.size() > MAX_KEPT) {
            kept.removeFirst().channel().close();
        }
    }

    private Binding openBinding(InetAddress outside, InetSocketAddress inside) throws IOException {
        DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(outside, 0));
        if (outsideReceiveBuffer > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, outsideReceiveBuffer);
        }
        channel.configureBlocking(false);
        Binding binding = new Binding(channel, (InetSocketAddress) channel.getLocalAddress(), inside);
        channel.register(selector, SelectionKey.OP_READ, binding);
        return binding;
    }

    /** Runs {@code policy} on the datagram in {@code bytes} and sends what it leaves from {@code via} to {@code to}. */
    private void pass(Policy policy, Datagram.Direction direction, InetSocketAddress inside, Binding binding,
                      ByteBuffer bytes, DatagramChannel via, InetSocketAddress to) {
        if (to == null) {
            return; // from the server before any client spoke: nowhere to go
        }
        if (policy == Policy.PASS) {
            send(via, bytes, to);
            return;
        }
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        Datagram datagram = new Datagram(direction, inside, binding.outside(), copy);
        policy.apply(datagram);
        int copies = datagram.copies();
        if (copies == 0) {
            dropped.incrementAndGet();
            return;
        }
        duplicated.addAndGet(copies - 1);
        byte[] sent = datagram.bytes();
        for (int i = 0; i < copies; i++) {
            long delay = datagram.delayNanos(i);
            if (delay == 0) {
                send(via, ByteBuffer.wrap(sent), to);
                continue;
            }
            try {
                timer.schedule(() -> send(via, ByteBuffer.wrap(sent), to), delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                return; // closing
            }
        }
    }

    private void send(DatagramChannel via, ByteBuffer bytes, InetSocketAddress to) {
        try {
            if (via.send(bytes, to) > 0) {
                forwarded.incrementAndGet();
            }
        } catch (IOException e) {
            // the binding was replaced or the relay closed: lost, as on a real network
        }
    }

    private <T> T query(Callable<T> question) {
        try {
            return call(question);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code task} on the I/O thread and returns its result, within a deadline. */
    private <T> T call(Callable<T> task) throws IOException {
        if (Thread.currentThread() == ioThread) {
            try {
                return task.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
        requireOpen();
        FutureTask<T> future = new FutureTask<>(task);
        tasks.add(future);
        selector.wakeup();
        try {
            return future.get(TASK_DEADLINE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for relay " + name);
        } catch (TimeoutException e) {
            requireOpen();
            throw new IOException("relay " + name + " did not answer within " + TASK_DEADLINE_SECONDS + " s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IOException(e.getCause());
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("relay " + name + " is closed"
                    + (failure != null ? ", stopped by " + failure : ""));
        }
    }

    private void stop(RuntimeException cause) {
        failure = cause;
        closed = true;
        System.err.println("relay " + name + " stopped: " + cause);
    }

    /** Stops forwarding and closes every socket; what is still on its way is lost. */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        selector.wakeup();
        if (Thread.currentThread() == ioThread) {
            return; // closes the sockets on its way out
        }
        try {
            ioThread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ioThread.isAlive()) {
            closeQuietly(front);
            closeQuietly(selector);
        }
    }

    /** On the I/O thread, as it ends. */
    private void closeSockets() {
        closed = true;
        timer.shutdownNow();
        closeQuietly(front);
        for (Binding binding : bindings.values()) {
            closeQuietly(binding.channel());
        }
        for (Binding binding : kept) {
            closeQuietly(binding.channel());
        }
        closeQuietly(selector);
        FutureTask<?> task;
        while ((task = tasks.poll()) != null) {
            task.cancel(false);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static InetSocketAddress requireLoopback(InetSocketAddress address) {
        if (!address.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("a relay only uses loopback addresses, not " + address);
        }
        return address;
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }
}
