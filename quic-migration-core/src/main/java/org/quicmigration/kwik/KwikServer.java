package org.quicmigration.kwik;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.util.function.Consumer;

import tech.kwik.core.QuicConnection;
import tech.kwik.core.QuicStream;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;
import tech.kwik.core.server.impl.ServerConnectionImpl;

/** Internal: a running Kwik server on one UDP socket. Thread-safe. */
public final class KwikServer implements AutoCloseable {

    private static final String KEY_ALIAS = "server";
    /** How long close() waits for connections to finish their closing handshake. */
    private static final java.time.Duration CLOSE_TIMEOUT = java.time.Duration.ofSeconds(2);

    private static final int CONNECTION_ID_LENGTH = 8;
    /**
     * Unidirectional streams a client may open; left unread (the public API offers bidirectional streams only).
     * HTTP/3 clients (ngtcp2's among them) open their control and QPACK streams at once and close the connection if
     * they cannot; the flow-control window bounds what they can buffer here.
     */
    private static final int PEER_UNIDIRECTIONAL_STREAMS = 3;

    private final ServerConnector connector;
    private final ServerPathSocket socket;
    private final InetSocketAddress localAddress;

    private KwikServer(ServerConnector connector, ServerPathSocket socket) {
        this.connector = connector;
        this.socket = socket;
        this.localAddress = socket.primaryLocal();
    }

    /**
     * Binds the socket and starts accepting connections. {@code onConnection} is called on a Kwik thread once
     * a client completed its handshake; it must return quickly.
     *
     * @throws IOException if the address cannot be bound or the certificate is unusable
     */
    public static KwikServer start(ServerSettings settings, Consumer<KwikConnection> onConnection) throws IOException {
        KwikInternals.verify();
        LiveConnections live = new LiveConnections();
        java.util.List<InetSocketAddress> preferred = new java.util.ArrayList<>();
        if (settings.preferredIpv4() != null) {
            preferred.add(settings.preferredIpv4());
        }
        if (settings.preferredIpv6() != null) {
            preferred.add(settings.preferredIpv6());
        }
        ServerPathSocket socket = new ServerPathSocket(settings.bindAddress(), preferred, CONNECTION_ID_LENGTH,
                settings.followsClients(), live::driverOf);
        try {
            char[] password = randomPassword();
            ServerConnectionConfig config = ServerConnectionConfig.builder()
                    .maxIdleTimeout((int) Math.min(Integer.MAX_VALUE, settings.idleTimeout().toMillis()))
                    .maxOpenPeerInitiatedBidirectionalStreams(settings.maxStreamsPerConnection())
                    .maxOpenPeerInitiatedUnidirectionalStreams(PEER_UNIDIRECTIONAL_STREAMS)
                    .maxBidirectionalStreamBufferSize(settings.streamReceiveWindow())
                    .maxConnectionBufferSize(settings.streamReceiveWindow() * 4)
                    .connectionIdLength(CONNECTION_ID_LENGTH)
                    .retryRequired(false)
                    .build();
            KeyStore keyStore = keyStore(settings, password);
            boolean disableMigration = !settings.acceptClientMigration();
            // Bound addresses: a preferred address given with port 0 is offered with the port it got.
            InetSocketAddress preferredIpv4 = settings.preferredIpv4() == null ? null : socket.preferredLocals().get(0);
            InetSocketAddress preferredIpv6 = settings.preferredIpv6() == null ? null
                    : socket.preferredLocals().get(socket.preferredLocals().size() - 1);
            MigrationTlsEngineFactory tls = settings.privateKey() instanceof ECKey ecKey
                    ? new MigrationTlsEngineFactory(keyStore, KEY_ALIAS, password, curveName(ecKey), disableMigration,
                            preferredIpv4, preferredIpv6, settings.keyLog())
                    : new MigrationTlsEngineFactory(keyStore, KEY_ALIAS, password, disableMigration, preferredIpv4,
                            preferredIpv6, settings.keyLog());
            ServerConnector connector = KwikServerSetup.newServerConnector(socket, tls, config,
                    new FrameObserver(KwikLogging.logger(), live::connectionFor));
            ConnectionFactory factory = new ConnectionFactory(onConnection, socket, settings, live, tls);
            tls.setUpEarlyWith(factory::prepare);
            connector.registerApplicationProtocol(settings.applicationProtocol(), factory);
            connector.start();
            return new KwikServer(connector, socket);
        } catch (GeneralSecurityException | RuntimeException e) {
            socket.close();
            throw new IOException("cannot start a QUIC server on " + settings.bindAddress() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** The bound preferred addresses (IPv4 first), empty if the server offers none. */
    public java.util.List<InetSocketAddress> preferredAddresses() {
        return socket.preferredLocals();
    }

    /** Test hook: silently drops datagrams from matching client addresses, as a black-holed network would. */
    public void dropDatagramsFrom(java.util.function.Predicate<InetSocketAddress> filter) {
        socket.dropDatagramsFrom(filter);
    }

    @Override
    public void close() {
        KwikServerSetup.closeServer(connector, CLOSE_TIMEOUT);
        socket.close();
    }

    private static KeyStore keyStore(ServerSettings settings, char[] password) throws GeneralSecurityException, IOException {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        keyStore.setKeyEntry(KEY_ALIAS, settings.privateKey(), password,
                settings.certificateChain().toArray(new X509Certificate[0]));
        return keyStore;
    }

    private static String curveName(ECKey key) throws GeneralSecurityException {
        int bits = key.getParams().getCurve().getField().getFieldSize();
        return switch (bits) {
            case 256 -> "secp256r1";
            case 384 -> "secp384r1";
            case 521 -> "secp521r1";
            default -> throw new GeneralSecurityException("unsupported EC key size " + bits + " bits; use P-256, P-384 or P-521");
        };
    }

    private static char[] randomPassword() {
        SecureRandom random = new SecureRandom();
        char[] password = new char[24];
        for (int i = 0; i < password.length; i++) {
            password[i] = (char) ('a' + random.nextInt(26));
        }
        return password;
    }

    /** The server's open connections, to find a connection's stall guard from a packet's destination CID. */
    private static final class LiveConnections {
        private final java.util.Map<ServerConnectionImpl, KwikConnection> connections =
                new java.util.concurrent.ConcurrentHashMap<>();

        void add(ServerConnectionImpl server, KwikConnection connection, Runnable onEnded) {
            connections.put(server, connection);
            connection.ended().whenComplete((how, error) -> {
                connections.remove(server);
                onEnded.run();
            });
        }

        /** The migration driver of the connection that owns this server connection ID, or null. */
        ServerMigrationDriver driverOf(byte[] destinationConnectionId) {
            KwikConnection connection = connectionFor(destinationConnectionId);
            return connection == null ? null : connection.serverDriver();
        }

        /** Linear in the number of connections; only called for rare frames (DATA_BLOCKED and the like). */
        KwikConnection connectionFor(byte[] destinationConnectionId) {
            for (java.util.Map.Entry<ServerConnectionImpl, KwikConnection> entry : connections.entrySet()) {
                for (byte[] cid : entry.getKey().getActiveConnectionIds()) {
                    if (java.util.Arrays.equals(cid, destinationConnectionId)) {
                        return entry.getValue();
                    }
                }
            }
            return null;
        }
    }

    /** Kwik calls this once per connection, after the handshake, on its own thread. */
    private static final class ConnectionFactory implements ApplicationProtocolConnectionFactory {
        private final Consumer<KwikConnection> onConnection;
        private final ServerPathSocket socket;
        private final InetSocketAddress localAddress;
        private final ServerSettings settings;
        private final LiveConnections live;
        private final MigrationTlsEngineFactory tls;
        private final java.util.random.RandomGenerator random = new SecureRandom();

        ConnectionFactory(Consumer<KwikConnection> onConnection, ServerPathSocket socket, ServerSettings settings,
                          LiveConnections live, MigrationTlsEngineFactory tls) {
            this.onConnection = onConnection;
            this.socket = socket;
            this.localAddress = socket.primaryLocal();
            this.settings = settings;
            this.live = live;
            this.tls = tls;
        }

        /** Connections set up before Kwik started their application protocol (see {@link #prepare}). */
        private final java.util.Map<ServerConnectionImpl, KwikConnection> prepared =
                new java.util.concurrent.ConcurrentHashMap<>();

        /**
         * Sets a connection up now rather than in {@link #createConnection}, for a connection offered a preferred
         * address (W25, docs/kwik-workarounds.md#w25): Kwik sends HANDSHAKE_DONE before it starts the application protocol, and a client may probe the
         * preferred address at once (see MigrationTlsEngineFactory). Runs on Kwik's receiver thread, as
         * createConnection does, just before it.
         */
        void prepare(ServerConnectionImpl server) {
            if (!prepared.containsKey(server)) {
                // Not computeIfAbsent: setUp registers a callback that removes the entry, and it runs at once on a
                // connection that has already ended.
                KwikConnection connection = setUp(server);
                if (connection.termination() == null) {
                    prepared.put(server, connection);
                }
            }
        }

        @Override
        public ApplicationProtocolConnection createConnection(String protocol, QuicConnection quicConnection) {
            ServerConnectionImpl server = (ServerConnectionImpl) quicConnection;
            KwikConnection early = prepared.remove(server);
            KwikConnection connection = early != null ? early : setUp(server);
            onConnection.accept(connection);
            return new ApplicationProtocolConnection() {
                @Override
                public void acceptPeerInitiatedStream(QuicStream stream) {
                    connection.peerOpenedStream(stream);
                }
            };
        }

        private KwikConnection setUp(ServerConnectionImpl server) {
            KwikAcks.shareIdleTimer(server); // a thread less per connection (W9)
            KwikAcks.stopPingPongWhenIdle(server); // else an idle connection on a fast path never idles out (W8)
            KwikConnection connection = new KwikConnection(server, localAddress,
                    server.getInitialRemoteAddress(), StallGuard.start(server));
            ServerMigrationDriver driver = null;
            if (settings.followsClients()) {
                driver = new ServerMigrationDriver(server, socket, localAddress, server.getInitialRemoteAddress(),
                        settings, random);
                org.quicmigration.core.trace.PreferredAddress preferred = tls.takeReserved(server);
                if (preferred != null) {
                    connection.localPreferredAddress(preferred); // routable since the handshake completed
                    // Kwik issues its spare IDs right after this call returns; the limit lowered for them is restored
                    // when the first packet after the handshake arrives.
                    driver.restoreIssuedIdLimitOnFirstPacket();
                }
                ServerMigrationDriver installed = driver;
                KwikServerSetup.insertAfterDuplicateFilter(server, next -> new PathAttributionFilter(installed, next));
                connection.serverDriver(driver);
                socket.register(driver);
            } else {
                connection.serverSocket(socket);
            }
            ServerMigrationDriver registered = driver;
            live.add(server, connection, () -> {
                prepared.remove(server);
                if (registered != null) {
                    socket.forget(registered);
                }
            });
            return connection;
        }
    }
}
