package org.quicmigration.kwik;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;

import tech.kwik.agent15.engine.ServerMessageSender;
import tech.kwik.agent15.engine.TlsServerEngine;
import tech.kwik.agent15.engine.TlsServerEngineFactory;
import tech.kwik.agent15.engine.TlsStatusEventHandler;
import tech.kwik.core.server.impl.ServerConnectionImpl;
import tech.kwik.core.tls.QuicTransportParametersExtension;

/**
 * Internal: makes Kwik's server advertise what we choose for disable_active_migration, and preferred_address if
 * the server has one. Kwik hard-codes disable_active_migration to true and then hands the (live, lazily
 * serialised) transport parameters extension to the TLS engine's {@code addServerExtensions}; the engine this
 * factory makes intercepts that call, sets the value before the EncryptedExtensions message is built and, for a
 * preferred address, swaps in a {@link PreferredAddressExtension} over the same parameters. Verified on the wire
 * against Kwik and ngtcp2 clients.
 */
final class MigrationTlsEngineFactory extends TlsServerEngineFactory {

    private final boolean disableActiveMigration;
    /** The bound preferred addresses (RFC 9000 9.6), or null for none. */
    private final InetSocketAddress preferredIpv4;
    private final InetSocketAddress preferredIpv6;
    private final SecureRandom random = new SecureRandom();
    /** The preferred_address offered to each connection whose handshake is under way; weak, as handshakes may fail. */
    private final java.util.Map<ServerConnectionImpl, org.quicmigration.core.trace.PreferredAddress> reservedIds =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, String ecCurve,
                              boolean disableActiveMigration, InetSocketAddress preferredIpv4,
                              InetSocketAddress preferredIpv6) throws CertificateException {
        super(keyStore, alias, password, ecCurve);
        this.disableActiveMigration = disableActiveMigration;
        this.preferredIpv4 = preferredIpv4;
        this.preferredIpv6 = preferredIpv6;
    }

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, boolean disableActiveMigration,
                              InetSocketAddress preferredIpv4, InetSocketAddress preferredIpv6)
            throws CertificateException {
        super(keyStore, alias, password);
        this.disableActiveMigration = disableActiveMigration;
        this.preferredIpv4 = preferredIpv4;
        this.preferredIpv6 = preferredIpv6;
    }

    @Override
    public TlsServerEngine createServerEngine(ServerMessageSender sender, TlsStatusEventHandler handler) {
        TlsServerEngine engine = super.createServerEngine(sender, handler);
        InvocationHandler intercept = (proxy, method, arguments) -> {
            if (method.getName().equals("addServerExtensions")
                    && arguments[0] instanceof QuicTransportParametersExtension parameters) {
                // RFC 9000 18.2: disable_active_migration is a zero-length flag; absent means migration is allowed.
                parameters.getTransportParameters().setDisableMigration(disableActiveMigration);
                if ((preferredIpv4 != null || preferredIpv6 != null) && handler instanceof ServerConnectionImpl server) {
                    arguments[0] = withPreferredAddress(parameters, server);
                }
            }
            try {
                return method.invoke(engine, arguments);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (TlsServerEngine) Proxy.newProxyInstance(TlsServerEngine.class.getClassLoader(),
                new Class<?>[]{TlsServerEngine.class}, intercept);
    }

    /** RFC 9000 9.6 and 18.2: the preferred address, with the connection's ID of sequence 1 and a fresh token. */
    private QuicTransportParametersExtension withPreferredAddress(QuicTransportParametersExtension parameters,
                                                                  ServerConnectionImpl server) {
        byte[] id = KwikInternals.reservePreferredAddressId(server);
        byte[] token = new byte[16];
        random.nextBytes(token);
        reservedIds.put(server, new org.quicmigration.core.trace.PreferredAddress(preferredIpv4, preferredIpv6,
                org.quicmigration.core.ConnectionId.of(id), token.clone()));
        return new PreferredAddressExtension(parameters,
                PreferredAddressExtension.value(preferredIpv4, preferredIpv6, id, token));
    }

    /** The preferred_address offered to {@code server} in its handshake, once; null if none. */
    org.quicmigration.core.trace.PreferredAddress takeReserved(ServerConnectionImpl server) {
        return reservedIds.remove(server);
    }
}
