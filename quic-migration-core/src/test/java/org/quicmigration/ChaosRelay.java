package org.quicmigration;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Random;

import org.quicmigration.relay.Policy;
import org.quicmigration.relay.UdpRelay;

/**
 * Test relay on loopback that plays a NAT on a bad network, for the chaos soak ({@link UdpRelay}, a binding per inside
 * address, at most 8, the oldest closed beyond). The client talks to {@link #address()}; each inside address the
 * client sends from gets its own outside binding, so the server sees a client that migrates as a new address, as
 * behind a real NAT. {@link #rebind} gives the latest inside address a new binding and closes the old one, so the
 * server's datagrams to it are lost. Every datagram in either direction goes through the current {@link Impairment}:
 * dropped, duplicated, and delayed with jitter (which reorders).
 */
final class ChaosRelay implements AutoCloseable {

    /** What the network does to each datagram; delays in microseconds, jitter uniform in [0, jitter). */
    record Impairment(double drop, double duplicate, long delayMicros, long jitterMicros) {
        static final Impairment NONE = new Impairment(0, 0, 0, 0);

        /** This impairment as a relay policy drawing from {@code random}. */
        Policy policy(Random random) {
            return Policy.drop(drop, random).then(Policy.duplicate(duplicate, random))
                    .then(Policy.delay(Duration.ofNanos(delayMicros * 1_000), Duration.ofNanos(jitterMicros * 1_000),
                            random));
        }

        @Override
        public String toString() {
            return String.format("drop %.1f %%, duplicate %.1f %%, delay %.1f ms + jitter %.1f ms", drop * 100,
                    duplicate * 100, delayMicros / 1000.0, jitterMicros / 1000.0);
        }
    }

    private static final int MAX_BINDINGS = 8;

    private final Random random;
    private final UdpRelay relay;
    private volatile Impairment impairment = Impairment.NONE;
    private volatile Policy policy = Policy.PASS;

    ChaosRelay(InetSocketAddress server, long seed) throws IOException {
        this.random = new Random(seed);
        Policy current = datagram -> policy.apply(datagram);
        this.relay = UdpRelay.builder(server).name("chaos-relay").mapping(UdpRelay.Mapping.PER_INSIDE_ADDRESS)
                .maxBindings(MAX_BINDINGS).toServer(current).toClient(current).start();
    }

    InetSocketAddress address() {
        return relay.address();
    }

    void impair(Impairment impairment) {
        this.policy = impairment.policy(random);
        this.impairment = impairment;
    }

    Impairment impairment() {
        return impairment;
    }

    /**
     * The NAT gives the client's latest inside address a new binding on {@code outside} (a new port; a new address
     * if it differs); the old binding stops working at once. Returns false if the client has not sent anything yet.
     */
    boolean rebind(InetAddress outside) throws IOException {
        return relay.rebindLatest(outside, UdpRelay.OldBinding.DROP);
    }

    long forwarded() {
        return relay.forwarded();
    }

    long dropped() {
        return relay.dropped();
    }

    long duplicated() {
        return relay.duplicated();
    }

    long rebinds() {
        return relay.rebinds();
    }

    /** The relay's state in one line, for reports. */
    String describe() {
        return String.format("%s; forwarded %d, dropped %d, duplicated %d, rebinds %d; bindings: %s", impairment,
                forwarded(), dropped(), duplicated(), rebinds(), relay.describeBindings());
    }

    @Override
    public void close() {
        relay.close();
    }
}
