package org.quicmigration.kwik;

import java.net.InetSocketAddress;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.trace.PreferredAddress;

import tech.kwik.core.impl.TransportParameters;

/**
 * Internal: the server's preferred_address transport parameter (RFC 9000 18.2) as Kwik parsed it, turned into the
 * core's value, checked: the client refuses an invalid one before it uses any of it. A port Kwik could not decode
 * (W27, docs/kwik-workarounds.md#w27) is reported as 0.
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
        // RFC 9000 18.2: "The Connection ID and Stateless Reset Token fields of a preferred address are identical in
        // syntax and semantics to the corresponding fields of a NEW_CONNECTION_ID frame (Section 19.15)", whose
        // length "Values less than 1 and greater than 20 are invalid"; and "a server MUST NOT include a zero-length
        // connection ID in this transport parameter. A client MUST treat a violation of these requirements as a
        // connection error of type TRANSPORT_PARAMETER_ERROR." Kwik 0.10.9 parses any length.
        int length = kwiks.getConnectionId().length;
        if (length < 1 || length > ConnectionId.MAX_LENGTH) {
            throw new TransportErrorException(TransportErrorException.TRANSPORT_PARAMETER_ERROR,
                    "preferred_address with a connection ID of " + length + " bytes (1 to 20 are valid)");
        }
        InetSocketAddress v4 = kwiks.getIp4() == null ? null
                : new InetSocketAddress(kwiks.getIp4(), Math.max(0, KwikConnectionIds.decodePreferredPort(kwiks.getIp4Port())));
        InetSocketAddress v6 = kwiks.getIp6() == null ? null
                : new InetSocketAddress(kwiks.getIp6(), Math.max(0, KwikConnectionIds.decodePreferredPort(kwiks.getIp6Port())));
        return new PreferredAddress(v4, v6, ConnectionId.of(kwiks.getConnectionId()), kwiks.getStatelessResetToken().clone());
    }
}
