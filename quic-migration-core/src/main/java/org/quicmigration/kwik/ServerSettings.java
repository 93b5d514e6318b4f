package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/**
 * Internal: everything the binding needs to run a server.
 *
 * @param bindAddress         the UDP address to listen on (port 0 for any)
 * @param certificateChain    the server's chain, leaf first
 * @param privateKey          the leaf's private key
 * @param applicationProtocol the ALPN protocol id clients must offer
 * @param idleTimeout         the max_idle_timeout to advertise
 * @param streamReceiveWindow bytes a client may send on one stream before the server application reads them
 * @param maxStreamsPerConnection how many bidirectional streams a client may have open at once
 * @param acceptClientMigration   advertise active migration and follow clients to new addresses
 * @param amplificationFactor     how much more than it received the server sends to an unvalidated address
 * @param maxPathsPerConnection   how many client addresses a connection tracks at most
 * @param pathValidationTimeout   how long a client address has to answer a challenge; null for three PTOs
 * @param pathMemory              how long a validated client address is remembered after its last datagram
 * @param preferredIpv4           the IPv4 preferred_address to offer and listen on (RFC 9000 9.6), or null
 * @param preferredIpv6           the IPv6 preferred_address to offer and listen on, or null
 * @param keyLog                  where to write every connection's TLS secrets, or null
 */
public record ServerSettings(InetSocketAddress bindAddress, List<X509Certificate> certificateChain,
                             PrivateKey privateKey, String applicationProtocol, Duration idleTimeout,
                             long streamReceiveWindow, int maxStreamsPerConnection,
                             boolean acceptClientMigration, int amplificationFactor, int maxPathsPerConnection,
                             Duration pathValidationTimeout, Duration pathMemory, InetSocketAddress preferredIpv4,
                             InetSocketAddress preferredIpv6, KeyLog keyLog) {

    /** True if the server offers a preferred address. */
    public boolean hasPreferredAddress() {
        return preferredIpv4 != null || preferredIpv6 != null;
    }

    /** True if connections need a migration driver: they follow clients that move, or to a preferred address. */
    boolean followsClients() {
        return acceptClientMigration || hasPreferredAddress();
    }
}
