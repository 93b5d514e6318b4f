package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.quicmigration.relay.Policy;
import org.quicmigration.relay.UdpRelay;

/**
 * Test relay on loopback ({@link UdpRelay}, one binding for all clients): clients talk to {@link #address()}, the
 * relay forwards to the server from its own socket and sends the answers back to the client that spoke last. Each
 * datagram, in either direction, is dropped with the given probability (seeded, so runs are repeatable in what they
 * drop if not in timing).
 */
final class LossyRelay implements AutoCloseable {

    private final UdpRelay relay;
    private volatile long serverToClientDelayMillis;

    LossyRelay(InetSocketAddress server, double dropProbability, long seed) throws IOException {
        Policy lossy = Policy.drop(dropProbability, new Random(seed));
        Policy delayed = datagram -> datagram.delay(TimeUnit.MILLISECONDS.toNanos(serverToClientDelayMillis));
        this.relay = UdpRelay.builder(server).name("lossy-relay").toServer(lossy).toClient(lossy.then(delayed)).start();
    }

    InetSocketAddress address() {
        return relay.address();
    }

    /** Delays every datagram from the server to the client by this much (0: none). */
    void delayServerToClient(long millis) {
        this.serverToClientDelayMillis = millis;
    }

    /** Sends {@code datagram} to the client's latest address as if the server had sent it. */
    void sendToClient(byte[] datagram) throws IOException {
        relay.sendToLatestInside(datagram);
    }

    long forwarded() {
        return relay.forwarded();
    }

    long dropped() {
        return relay.dropped();
    }

    @Override
    public void close() {
        relay.close();
    }
}
