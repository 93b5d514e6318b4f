package org.quicmigration.examples;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.quicmigration.relay.UdpRelay;

/**
 * A NAT on loopback, for any number of clients, on one thread: the core tests' {@link UdpRelay} with a binding per
 * client address and no impairment. Clients send to {@link #address()}; for each client address the NAT opens an
 * "outside" UDP socket (a binding) and forwards to the server from it, and forwards what the server sends to that
 * binding back to the client. {@link #rebindAll()} gives every client a new binding at once and closes the old ones,
 * so the server's datagrams to old bindings are lost: the NAT rebinding the QUIC interop runner's rebind-port test
 * makes, for every client at the same moment; {@link #rebindAll(InetAddress)} moves the bindings to another outside
 * address too, as its rebind-addr test does.
 */
final class NatEmulator implements AutoCloseable {

    private final UdpRelay relay;
    private volatile InetAddress outsideAddress;

    NatEmulator(InetSocketAddress server, InetAddress outsideAddress) throws IOException {
        this.outsideAddress = outsideAddress;
        this.relay = UdpRelay.builder(server).name("nat-emulator").mapping(UdpRelay.Mapping.PER_INSIDE_ADDRESS)
                .outside(outsideAddress).receiveBuffers(8 << 20, 0).start();
    }

    /** Where clients send to. */
    InetSocketAddress address() throws IOException {
        return relay.address();
    }

    /** The outside address of every binding open now: where the server sees its clients. */
    List<InetSocketAddress> bindingAddresses() {
        return relay.bindingAddresses();
    }

    /** How many clients have a binding. */
    int bindings() {
        return relay.bindingAddresses().size();
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
        try {
            relay.rebindAll(newOutsideAddress, UdpRelay.OldBinding.DROP);
            outsideAddress = newOutsideAddress;
        } catch (InterruptedIOException e) {
            throw new InterruptedException(e.getMessage());
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a binding", e);
        }
    }

    @Override
    public void close() throws IOException {
        relay.close();
    }
}
