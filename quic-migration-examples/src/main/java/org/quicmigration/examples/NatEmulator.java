package org.quicmigration.examples;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A NAT on loopback, for any number of clients, on one thread. Clients send to {@link #address()}; for each client
 * address the NAT opens an "outside" UDP socket (a binding) and forwards to the server from it, and forwards what
 * the server sends to that binding back to the client. {@link #rebindAll()} gives every client a new binding at
 * once and closes the old ones, so the server's datagrams to old bindings are lost: the NAT rebinding the QUIC
 * interop runner's rebind-port test makes, for every client at the same moment; {@link #rebindAll(InetAddress)}
 * moves the bindings to another outside address too, as its rebind-addr test does.
 */
final class NatEmulator implements AutoCloseable {

    private final Selector selector;
    private final DatagramChannel inside;
    private final InetSocketAddress server;
    private volatile InetAddress outsideAddress;
    private final Map<SocketAddress, DatagramChannel> bindingOf = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    NatEmulator(InetSocketAddress server, InetAddress outsideAddress) throws IOException {
        this.server = server;
        this.outsideAddress = outsideAddress;
        this.selector = Selector.open();
        this.inside = DatagramChannel.open().bind(new InetSocketAddress(server.getAddress(), 0));
        inside.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 8 << 20);
        inside.configureBlocking(false);
        inside.register(selector, SelectionKey.OP_READ, null);
        this.thread = new Thread(this::run, "nat-emulator");
        thread.setDaemon(true);
        thread.start();
    }

    /** Where clients send to. */
    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) inside.getLocalAddress();
    }

    /** The outside address of every binding open now: where the server sees its clients. */
    java.util.List<InetSocketAddress> bindingAddresses() {
        java.util.List<InetSocketAddress> addresses = new java.util.ArrayList<>();
        for (DatagramChannel binding : bindingOf.values()) {
            try {
                addresses.add((InetSocketAddress) binding.getLocalAddress());
            } catch (IOException e) {
                // closed by a rebinding meanwhile: no longer a binding
            }
        }
        return addresses;
    }

    /** How many clients have a binding. */
    int bindings() {
        return bindingOf.size();
    }

    /** Gives every client a new binding (a new port) and closes the old ones; returns when done. */
    void rebindAll() throws InterruptedException {
        rebindAll(outsideAddress);
    }

    /**
     * Gives every client a new binding on {@code newOutsideAddress} (a loopback address), for them and for clients
     * still to come, and closes the old ones; returns when done.
     */
    void rebindAll(InetAddress newOutsideAddress) throws InterruptedException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        tasks.add(() -> {
            outsideAddress = newOutsideAddress;
            for (Map.Entry<SocketAddress, DatagramChannel> entry : bindingOf.entrySet()) {
                try {
                    DatagramChannel old = entry.getValue();
                    entry.setValue(openBinding(entry.getKey()));
                    old.close();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot open a binding", e);
                }
            }
            done.countDown();
        });
        selector.wakeup();
        done.await();
    }

    private DatagramChannel openBinding(SocketAddress client) throws IOException {
        DatagramChannel binding = DatagramChannel.open().bind(new InetSocketAddress(outsideAddress, 0));
        binding.configureBlocking(false);
        binding.register(selector, SelectionKey.OP_READ, client);
        return binding;
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        try {
            while (running) {
                selector.select();
                Runnable task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    while (true) {
                        buffer.clear();
                        SocketAddress from;
                        try {
                            from = channel.receive(buffer);
                        } catch (IOException e) {
                            break; // closed by a rebinding
                        }
                        if (from == null) {
                            break;
                        }
                        buffer.flip();
                        try {
                            if (channel == inside) {
                                DatagramChannel binding = bindingOf.get(from);
                                if (binding == null) {
                                    binding = openBinding(from);
                                    bindingOf.put(from, binding);
                                }
                                binding.send(buffer, server);
                            } else {
                                inside.send(buffer, (SocketAddress) key.attachment());
                            }
                        } catch (IOException e) {
                            // a lost datagram, as on a real network
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        selector.wakeup();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (DatagramChannel binding : bindingOf.values()) {
            binding.close();
        }
        inside.close();
        selector.close();
    }
}
