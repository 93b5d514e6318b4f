package org.quicmigration.core.trace;

import java.net.InetSocketAddress;

import org.quicmigration.core.ConnectionId;

/**
 * A server's preferred_address transport parameter (RFC 9000 18.2), as offered to one connection: for the
 * server's own qlog {@code parameters_set}.
 *
 * @param ipv4         the IPv4 address and port, or null
 * @param ipv6         the IPv6 address and port, or null
 * @param connectionId the connection ID for that address (sequence number 1)
 * @param resetToken   its stateless reset token (16 bytes)
 */
public record PreferredAddress(InetSocketAddress ipv4, InetSocketAddress ipv6, ConnectionId connectionId,
                               byte[] resetToken) {
}
