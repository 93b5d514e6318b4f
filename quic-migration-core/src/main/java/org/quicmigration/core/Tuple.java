package org.quicmigration.core;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A network path as QUIC sees it: the local and the remote UDP address, the 4-tuple of RFC 9000 9.
 */
public record Tuple(InetSocketAddress local, InetSocketAddress remote) {

    public Tuple {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
    }

    /**
     * True if this tuple differs from {@code other} only in the port numbers. RFC 9000 9.4: an endpoint resets
     * congestion control and RTT for a new path "unless the only change in the peer's address is its port number":
     * a NAT rebinding keeps the same network.
     */
    public boolean onlyPortsDifferFrom(Tuple other) {
        return local.getAddress().equals(other.local.getAddress())
                && remote.getAddress().equals(other.remote.getAddress());
    }

    @Override
    public String toString() {
        return local + " -> " + remote;
    }
}
