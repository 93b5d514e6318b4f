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
 * Internal: makes Kwik's server advertise what we choose for disable_active_migration (W24,
 * docs/kwik-workarounds.md#w24), and preferred_address if the server has one (W25, docs/kwik-workarounds.md#w25).
 * Kwik hard-codes disable_active_migration to true and then hands the (live, lazily serialised) transport
 * parameters extension to the TLS engine's {@code addServerExtensions}; the engine this
 * factory makes intercepts that call, sets the value before the EncryptedExtensions message is built and, for a
 * preferred address, swaps in a {@link PreferredAddressExtension} over the same parameters. Verified on the wire
 * against Kwik and ngtcp2 clients. With a {@link KeyLog}, each engine also reports its traffic secrets there
 * ({@link KeyLoggingHandler}, W31), with the random of the ClientHello it receives.
 */
final class MigrationTlsEngineFactory extends TlsServerEngineFactory {

    private final boolean disableActiveMigration;
    /** The bound preferred addresses (RFC 9000 9.6), or null for none. */
    private final InetSocketAddress preferredIpv4;
    private final InetSocketAddress preferredIpv6;
    /** Where the TLS secrets go, or null. */
    private final KeyLog keyLog;
    private final SecureRandom random = new SecureRandom();
    /** The preferred_address offered to each connection whose handshake is under way; weak, as handshakes may fail. */
    /** Sets a connection up for migration; run before Kwik's handshakeFinished() for one with a preferred address. */
    private volatile java.util.function.Consumer<ServerConnectionImpl> earlySetUp = server -> { };
    private final java.util.Map<ServerConnectionImpl, org.quicmigration.core.trace.PreferredAddress> reservedIds =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, String ecCurve,
                              boolean disableActiveMigration, InetSocketAddress preferredIpv4,
                              InetSocketAddress preferredIpv6, KeyLog keyLog) throws CertificateException {
        super(keyStore, alias, password, ecCurve);
        this.disableActiveMigration = disableActiveMigration;
        this.preferredIpv4 = preferredIpv4;
        this.preferredIpv6 = preferredIpv6;
        this.keyLog = keyLog;
    }

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, boolean disableActiveMigration,
                              InetSocketAddress preferredIpv4, InetSocketAddress preferredIpv6, KeyLog keyLog)
            throws CertificateException {
        super(keyStore, alias, password);
        this.disableActiveMigration = disableActiveMigration;
        this.preferredIpv4 = preferredIpv4;
        this.preferredIpv6 = preferredIpv6;
        this.keyLog = keyLog;
    }

    @Override
    public TlsServerEngine createServerEngine(ServerMessageSender sender, TlsStatusEventHandler handler) {
        TlsStatusEventHandler events = (preferredIpv4 != null || preferredIpv6 != null)
                && handler instanceof ServerConnectionImpl server ? new RoutesPreferredIdFirst(handler, server) : handler;
        java.util.concurrent.atomic.AtomicReference<tech.kwik.agent15.handshake.ClientHello> clientHello =
                new java.util.concurrent.atomic.AtomicReference<>();
        KeyLoggingHandler keyLogging = keyLog == null ? null : new KeyLoggingHandler(events, keyLog, clientHello::get);
        TlsServerEngine engine = super.createServerEngine(sender, keyLogging != null ? keyLogging : events);
        if (keyLogging != null) {
            keyLogging.secretsOf(engine);
        }
        InvocationHandler intercept = (proxy, method, arguments) -> {
            if (method.getName().equals("received") && arguments[0] instanceof tech.kwik.agent15.handshake.ClientHello hello) {
                if (handler instanceof ServerConnectionImpl server) {
                    FrameObserver.serverHandshakeOnThisThread(server); // W3 during the handshake
                }
                if (keyLogging != null) {
                    // RFC 8446 4.1.2: a ClientHello sent again after a HelloRetryRequest keeps its random; the first
                    // counts.
                    clientHello.compareAndSet(null, hello);
                }
            }
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
        byte[] id = KwikConnectionIds.reservePreferredAddressId(server);
        byte[] token = new byte[16];
        random.nextBytes(token);
        reservedIds.put(server, new org.quicmigration.core.trace.PreferredAddress(preferredIpv4, preferredIpv6,
                org.quicmigration.core.ConnectionId.of(id), token.clone()));
        return new PreferredAddressExtension(parameters,
                PreferredAddressExtension.value(preferredIpv4, preferredIpv6, id, token));
    }

    /**
     * Makes the preferred_address connection ID routable when the handshake completes, before Kwik reacts to that.
     * Kwik sends HANDSHAKE_DONE first thing in {@code handshakeFinished()} and starts the application protocol (where
     * the rest of this library's set-up runs) only after it; a client that probes the preferred address as soon as
     * the handshake is confirmed (ngtcp2's gtlsclient does, within a millisecond on loopback) reached the server
     * before the ID was routed, and Kwik dropped the probes as addressed to no connection: gtlsclient then stayed on
     * the first address (seen intermittently in Ngtcp2ClientInteropTest). By now the connection is registered under
     * its first ID, which the client's Finished arrived with (W25).
     */
    private final class RoutesPreferredIdFirst implements TlsStatusEventHandler {
        private final TlsStatusEventHandler connection;
        private final ServerConnectionImpl server;

        RoutesPreferredIdFirst(TlsStatusEventHandler connection, ServerConnectionImpl server) {
            this.connection = connection;
            this.server = server;
        }

        @Override
        public void handshakeFinished() {
            org.quicmigration.core.trace.PreferredAddress reserved = reservedIds.get(server);
            if (reserved != null) {
                KwikConnectionIds.routePreferredAddressId(server, reserved.connectionId().bytes());
                // The ID is routable, but a datagram to the preferred address finds its connection only once the
                // connection's migration state exists, which Kwik's application protocol start would create only
                // after HANDSHAKE_DONE has left (a probe gtlsclient sent 1 ms after it went unanswered).
                earlySetUp.accept(server);
            }
            connection.handshakeFinished();
        }

        @Override
        public void earlySecretsKnown() {
            connection.earlySecretsKnown();
        }

        @Override
        public void handshakeSecretsKnown() {
            connection.handshakeSecretsKnown();
        }

        @Override
        public void newSessionTicketReceived(tech.kwik.agent15.NewSessionTicket ticket) {
            connection.newSessionTicketReceived(ticket);
        }

        @Override
        public void extensionsReceived(java.util.List<tech.kwik.agent15.extension.Extension> extensions)
                throws tech.kwik.agent15.TlsProtocolException {
            connection.extensionsReceived(extensions);
        }

        @Override
        public boolean isEarlyDataAccepted() {
            return connection.isEarlyDataAccepted();
        }
    }

    /** The preferred_address offered to {@code server} in its handshake, once; null if none. */
    /** What sets a connection up before Kwik's handshakeFinished() when it was offered a preferred address. */
    void setUpEarlyWith(java.util.function.Consumer<ServerConnectionImpl> setUp) {
        this.earlySetUp = setUp;
    }

    org.quicmigration.core.trace.PreferredAddress takeReserved(ServerConnectionImpl server) {
        return reservedIds.remove(server);
    }
}
