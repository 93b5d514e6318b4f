package org.quicmigration.kwik;

import java.net.InetSocketAddress;

import tech.kwik.core.impl.QuicClientConnectionImpl;

/** Internal: what a client reads of the server's preferred_address transport parameter (RFC 9000 9.6, 18.2). */
final class ClientPreferredAddress {

    private static final System.Logger LOG = System.getLogger(ClientPreferredAddress.class.getName());

    private ClientPreferredAddress() {
    }

    /**
     * RFC 9000 5.1.1: the connection ID in the server's preferred_address has sequence number 1, and is the
     * server's to use whether or not we move there. Kwik does not register it (W26, docs/kwik-workarounds.md#w26), so without this a
     * client that stays, or that cannot use the address, would have no spare ID for a migration of its own.
     */
    static void registerId(QuicClientConnectionImpl connection) {
        tech.kwik.core.impl.TransportParameters parameters = connection.getPeerTransportParameters();
        tech.kwik.core.impl.TransportParameters.PreferredAddress preferred =
                parameters == null ? null : parameters.getPreferredAddress();
        if (preferred != null && preferred.getConnectionId() != null && preferred.getConnectionId().length > 0) {
            KwikConnectionIds.registerPreferredAddressId(connection, preferred.getConnectionId(),
                    preferred.getStatelessResetToken());
        }
    }

    /** The server's preferred_address of our address family (RFC 9000 9.6), or null if there is none we can use. */
    static InetSocketAddress of(QuicClientConnectionImpl connection, InetSocketAddress server) {
        tech.kwik.core.impl.TransportParameters parameters = connection.getPeerTransportParameters();
        tech.kwik.core.impl.TransportParameters.PreferredAddress preferred =
                parameters == null ? null : parameters.getPreferredAddress();
        if (preferred == null) {
            return null;
        }
        boolean ipv4 = server.getAddress() instanceof java.net.Inet4Address;
        java.net.InetAddress address = ipv4 ? preferred.getIp4() : preferred.getIp6();
        int port = KwikConnectionIds.decodePreferredPort(ipv4 ? preferred.getIp4Port() : preferred.getIp6Port());
        if (address == null) {
            return null;
        }
        if (port <= 0) {
            LOG.log(System.Logger.Level.WARNING, "server " + server + " offers preferred_address " + address
                    + " with a port Kwik 0.10.9 cannot decode (its low byte is 0x80 or more); staying on " + server);
            return null;
        }
        return new InetSocketAddress(address, port);
    }
}
