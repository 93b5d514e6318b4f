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
 */
public record ServerSettings(InetSocketAddress bindAddress, List<X509Certificate> certificateChain,
                             PrivateKey privateKey, String applicationProtocol, Duration idleTimeout,
                             long streamReceiveWindow, int maxStreamsPerConnection,
                             boolean acceptClientMigration) {
}
