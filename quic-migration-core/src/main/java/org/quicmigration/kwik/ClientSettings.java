package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.time.Duration;

import javax.net.ssl.X509TrustManager;

/**
 * Internal: everything the binding needs to open a client connection.
 *
 * @param server             where to send datagrams
 * @param serverName         the TLS server name (SNI and certificate host name check)
 * @param applicationProtocol the ALPN protocol id
 * @param trustManager       how to check the server's certificate, or null to accept any (tests only)
 * @param localAddress       the local address to bind, port 0 for any
 * @param connectTimeout     how long the handshake may take
 * @param idleTimeout        the max_idle_timeout to advertise
 * @param streamReceiveWindow bytes a peer may send on one stream before we read them
 * @param followPreferredAddress move to the server's preferred_address once the handshake is confirmed
 * @param policy             the network-change policy
 * @param networks           where the policy learns the usable networks
 * @param keyLog             where to write the connection's TLS secrets, or null
 */
public record ClientSettings(InetSocketAddress server, String serverName, String applicationProtocol,
                             X509TrustManager trustManager, InetSocketAddress localAddress,
                             Duration connectTimeout, Duration idleTimeout, long streamReceiveWindow,
                             boolean followPreferredAddress, org.quicmigration.core.policy.PolicyConfig policy,
                             NetworkFeed networks, KeyLog keyLog) {
}
