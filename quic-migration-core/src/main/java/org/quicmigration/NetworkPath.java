package org.quicmigration;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A network path: the local and remote UDP addresses of a connection (the "4-tuple" of RFC 9000 section 9).
 *
 * @param local  our address
 * @param remote the peer's address
 */
public record NetworkPath(InetSocketAddress local, InetSocketAddress remote) {

    /**
     * Creates a path.
     *
     * @param local  our address
     * @param remote the peer's address
     * @throws NullPointerException if either address is null
     */
    public NetworkPath {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
    }

    @Override
    public String toString() {
        return local + " -> " + remote;
    }
}
