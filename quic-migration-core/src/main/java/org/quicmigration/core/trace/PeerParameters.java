package org.quicmigration.core.trace;

import java.net.InetSocketAddress;

import org.quicmigration.core.ConnectionId;

/**
 * The peer's transport parameters that matter to migration (RFC 9000 18.2), for qlog's {@code parameters_set}.
 *
 * @param disableActiveMigration   disable_active_migration
 * @param activeConnectionIdLimit  active_connection_id_limit
 * @param maxIdleTimeoutMillis     max_idle_timeout
 * @param maxAckDelayMillis        max_ack_delay
 * @param preferredAddressV4       preferred_address, IPv4 part, or null
 * @param preferredAddressV6       preferred_address, IPv6 part, or null
 * @param preferredConnectionId    preferred_address's connection ID, or null without a preferred address
 * @param preferredResetToken      preferred_address's stateless reset token, or null
 */
public record PeerParameters(boolean disableActiveMigration, long activeConnectionIdLimit, long maxIdleTimeoutMillis,
                             long maxAckDelayMillis, InetSocketAddress preferredAddressV4,
                             InetSocketAddress preferredAddressV6, ConnectionId preferredConnectionId,
                             byte[] preferredResetToken) {
}
