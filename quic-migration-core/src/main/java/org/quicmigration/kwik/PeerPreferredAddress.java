package org.quicmigration.kwik;

import java.net.InetSocketAddress;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.trace.PreferredAddress;

import tech.kwik.core.impl.TransportParameters;

/**
 * Internal: the server's preferred_address transport parameter (RFC 9000 18.2) as Kwik parsed it, turned into the
 * core's value. A port Kwik could not decode (W27, docs/kwik-workarounds.md#w27) is reported as 0.
 */
final class PeerPreferredAddress {

    private PeerPreferredAddress() {
    }

    /**
     * The server's preferred address, or null if it sent none.
     *
     * @throws TransportErrorException if the parameter breaks RFC 9000's rules
     */
    static PreferredAddress of(TransportParameters parameters) throws TransportErrorException {
        TransportParameters.PreferredAddress kwiks = parameters == null ? null : parameters.getPreferredAddress();
        if (kwiks == null) {
            return null;
        }
        InetSocketAddress v4 = kwiks.getIp4() == null ? null
                : new InetSocketAddress(kwiks.getIp4(), Math.max(0, KwikInternals.decodePreferredPort(kwiks.getIp4Port())));
        InetSocketAddress v6 = kwiks.getIp6() == null ? null
                : new InetSocketAddress(kwiks.getIp6(), Math.max(0, KwikInternals.decodePreferredPort(kwiks.getIp6Port())));
        return new PreferredAddress(v4, v6, ConnectionId.of(kwiks.getConnectionId()), kwiks.getStatelessResetToken().clone());
    }
}
