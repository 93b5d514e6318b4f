package org.quicmigration.core.policy;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A local address the host can send from, and the interface it belongs to.
 *
 * @param interfaceName the interface's name ({@code wlan0}, {@code rmnet_data0}, ...), never null
 * @param address       the address
 */
public record LocalNetwork(String interfaceName, InetAddress address) {

    public LocalNetwork {
        Objects.requireNonNull(interfaceName, "interfaceName");
        Objects.requireNonNull(address, "address");
    }
}
