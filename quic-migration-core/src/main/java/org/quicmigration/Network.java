package org.quicmigration;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A local address the host can send from, and the name of the interface it belongs to ({@code wlan0},
 * {@code rmnet_data0}, {@code eth0}, ...), as a {@link NetworkMonitor} reports it.
 *
 * @param interfaceName the interface's name, matched by {@link MigrationPolicy.Builder#preferInterfaces}
 * @param address       the local address
 */
public record Network(String interfaceName, InetAddress address) {

    /**
     * Creates a network.
     *
     * @param interfaceName the interface's name
     * @param address       the local address
     * @throws NullPointerException if either argument is null
     */
    public Network {
        Objects.requireNonNull(interfaceName, "interfaceName");
        Objects.requireNonNull(address, "address");
    }
}
