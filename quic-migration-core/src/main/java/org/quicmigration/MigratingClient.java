package org.quicmigration;

import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import org.quicmigration.kwik.ClientSettings;
import org.quicmigration.kwik.ConnectFailure;
import org.quicmigration.kwik.KeyLog;
import org.quicmigration.kwik.KwikClients;
import org.quicmigration.kwik.KwikConnection;

/**
 * Opens QUIC connections to one server. Configure it once with {@link #builder()}, then call {@link #connect()}
 * as often as needed; each call makes a new connection.
 *
 * <pre>{@code
 * MigratingClient client = MigratingClient.builder()
 *         .server(new InetSocketAddress("192.0.2.10", 4433))
 *         .applicationProtocol("echo")
 *         .pinnedCertificate(serverCertificate)
 *         .build();
 * try (MigratingConnection connection = client.connect()) {
 *     BidirectionalStream stream = connection.openStream();
 *     ...
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class MigratingClient {

    private final InetSocketAddress server;
    private final String serverName;
    private final String applicationProtocol;
    private final X509TrustManager trustManager;
    private final InetSocketAddress localAddress;
    private final Duration connectTimeout;
    private final Duration idleTimeout;
    private final long streamReceiveWindow;
    private final boolean followPreferredAddress;
    private final java.nio.file.Path qlogDirectory;
    private final List<PacketListener> packetListeners;
    private final MigrationPolicy migrationPolicy;
    private final NetworkMonitor networkMonitor;
    /** Shared by all connections of this client, so their appends are serialised; null for none. */
    private final KeyLog keyLog;

    private MigratingClient(Builder builder) {
        this.server = builder.server;
        this.serverName = builder.serverName != null ? builder.serverName : builder.server.getHostString();
        this.applicationProtocol = builder.applicationProtocol;
        this.trustManager = builder.trustManager;
        this.localAddress = builder.localAddress;
        this.connectTimeout = builder.connectTimeout;
        this.idleTimeout = builder.idleTimeout;
        this.streamReceiveWindow = builder.streamReceiveWindow;
        this.followPreferredAddress = builder.followPreferredAddress;
        this.qlogDirectory = builder.qlogDirectory;
        this.packetListeners = List.copyOf(builder.packetListeners);
        this.migrationPolicy = builder.migrationPolicy;
        this.networkMonitor = builder.networkMonitor != null ? builder.networkMonitor : NetworkMonitor.system();
        this.keyLog = KeyLogFiles.open(builder.keyLogFile);
    }

    /** {@return a builder with the defaults: connect timeout 5 s, idle timeout 30 s, system trust store} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Opens a new connection and completes the QUIC handshake, or fails within the connect timeout.
     *
     * @return the established connection
     * @throws QuicConnectException with a {@link QuicConnectException.Reason} saying what went wrong
     * @throws InterruptedException if the calling thread was interrupted while waiting
     */
    public MigratingConnection connect() throws QuicConnectException, InterruptedException {
        ClientSettings settings = new ClientSettings(server, serverName, applicationProtocol, trustManager,
                localAddress, connectTimeout, idleTimeout, streamReceiveWindow, followPreferredAddress,
                migrationPolicy.config(), new MonitorFeed(networkMonitor), keyLog);
        ConnectionTracing tracing = new ConnectionTracing(MigrationEvents.THREAD, packetListeners);
        try {
            KwikConnection kwik = KwikClients.connect(settings, connection -> tracing.attach(connection, qlogDirectory, false));
            tracing.connected(false, true);
            return new MigratingConnection(kwik, tracing);
        } catch (ConnectFailure failure) {
            QuicConnectException.Reason reason = switch (failure.kind()) {
                case UNREACHABLE -> QuicConnectException.Reason.UNREACHABLE;
                case TIMEOUT -> QuicConnectException.Reason.TIMEOUT;
                case CERTIFICATE_REJECTED -> QuicConnectException.Reason.CERTIFICATE_REJECTED;
                case APPLICATION_PROTOCOL_REJECTED -> QuicConnectException.Reason.APPLICATION_PROTOCOL_REJECTED;
                case REFUSED -> QuicConnectException.Reason.REFUSED;
                case PROTOCOL_VIOLATION -> QuicConnectException.Reason.PROTOCOL_VIOLATION;
                case LOCAL_ERROR -> QuicConnectException.Reason.LOCAL_ERROR;
            };
            throw new QuicConnectException(reason, failure.getMessage(), failure.getCause());
        }
    }

    /** {@return the server this client connects to} */
    public InetSocketAddress server() {
        return server;
    }

    @Override
    public String toString() {
        return "MigratingClient[" + serverName + " at " + server + ", alpn " + applicationProtocol + "]";
    }

    /** Configures a {@link MigratingClient}. Not thread-safe; {@link #build()} copies what it needs. */
    public static final class Builder {
        private InetSocketAddress server;
        private String serverName;
        private String applicationProtocol;
        private X509TrustManager trustManager;
        private boolean trustConfigured;
        private InetSocketAddress localAddress;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofSeconds(30);
        private long streamReceiveWindow = 1024 * 1024;
        private boolean followPreferredAddress = true;
        private java.nio.file.Path qlogDirectory;
        private final List<PacketListener> packetListeners = new java.util.ArrayList<>();
        private MigrationPolicy migrationPolicy = MigrationPolicy.defaults();
        private NetworkMonitor networkMonitor;
        private java.nio.file.Path keyLogFile;

        private Builder() {
        }

        /**
         * The server's UDP address. Required; must be resolved.
         *
         * @param server the server's address and UDP port
         * @return this builder
         * @throws IllegalArgumentException if the address is unresolved
         */
        public Builder server(InetSocketAddress server) {
            Objects.requireNonNull(server, "server");
            if (server.isUnresolved()) {
                throw new IllegalArgumentException("server address " + server + " is unresolved; resolve it first");
            }
            this.server = server;
            return this;
        }

        /**
         * The name sent in TLS SNI and checked against the server's certificate. Defaults to the host string
         * of the server address (an IP literal if it was created from one).
         *
         * @param serverName the server's host name
         * @return this builder
         * @throws IllegalArgumentException if it is blank
         */
        public Builder serverName(String serverName) {
            this.serverName = Arguments.requireText(serverName, "serverName");
            return this;
        }

        /**
         * The ALPN protocol id to ask for, for example {@code "h3"}. Required.
         *
         * @param applicationProtocol the ALPN protocol id
         * @return this builder
         * @throws IllegalArgumentException if it is blank
         */
        public Builder applicationProtocol(String applicationProtocol) {
            this.applicationProtocol = Arguments.requireText(applicationProtocol, "applicationProtocol");
            return this;
        }

        /**
         * Trusts servers whose chain leads to a certificate in this trust store (default: the JDK's cacerts).
         *
         * @param trustStore the certificates to trust
         * @return this builder
         * @throws IllegalArgumentException if the trust store cannot be used
         */
        public Builder trustStore(KeyStore trustStore) {
            Objects.requireNonNull(trustStore, "trustStore");
            try {
                TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init(trustStore);
                return trust(firstX509(factory.getTrustManagers()));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("unusable trust store: " + e.getMessage(), e);
            }
        }

        /**
         * Trusts exactly this certificate, whoever signed it: the server's leaf certificate must equal it. The
         * server name must still match the certificate.
         *
         * @param certificate the server's leaf certificate
         * @return this builder
         */
        public Builder pinnedCertificate(X509Certificate certificate) {
            return trust(new PinnedCertificateTrustManager(Objects.requireNonNull(certificate, "certificate")));
        }

        /**
         * Accepts any server certificate. This removes all protection against an attacker in the path:
         * use it only in tests against servers you start yourself.
         *
         * @return this builder
         */
        public Builder insecureTrustAnyCertificateForTesting() {
            this.trustConfigured = true;
            this.trustManager = null;
            return this;
        }

        /**
         * The local address to send from (default: any address, any port, chosen by the OS).
         *
         * @param localAddress the local address and port; port 0 for any
         * @return this builder
         */
        public Builder localAddress(InetSocketAddress localAddress) {
            this.localAddress = Objects.requireNonNull(localAddress, "localAddress");
            return this;
        }

        /**
         * How long {@link MigratingClient#connect()} may take before it fails with TIMEOUT (default 5 s).
         *
         * @param connectTimeout the longest handshake; positive
         * @return this builder
         * @throws IllegalArgumentException if it is zero or negative
         */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = Arguments.requirePositive(connectTimeout, "connectTimeout");
            return this;
        }

        /**
         * How long a connection may stay silent before it ends (default 30 s).
         *
         * @param idleTimeout the max_idle_timeout to advertise; positive
         * @return this builder
         * @throws IllegalArgumentException if it is zero or negative
         */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = Arguments.requirePositive(idleTimeout, "idleTimeout");
            return this;
        }

        /**
         * How many bytes the server may send on one stream ahead of the application's reads (default 1 MiB).
         *
         * @param bytes the window in bytes, at least 1024
         * @return this builder
         * @throws IllegalArgumentException if it is below 1024
         */
        public Builder streamReceiveWindow(long bytes) {
            this.streamReceiveWindow = Arguments.requireBetween(bytes, 1024, Long.MAX_VALUE, "stream receive window");
            return this;
        }

        /**
         * Whether to move to the server's preferred_address once the handshake is confirmed (RFC 9000 9.6; default
         * true). The move is a migration like {@link MigratingConnection#migrate}: validated, with a fresh
         * connection ID (the one the server gave with the address), and reported to migration listeners; if the
         * preferred address does not answer, the connection stays on the address it connected to.
         *
         * @param follow whether to move to the preferred address
         * @return this builder
         */
        public Builder followPreferredAddress(boolean follow) {
            this.followPreferredAddress = follow;
            return this;
        }

        /**
         * Writes a qlog file for each connection into {@code directory} (created if missing), named
         * {@code <original destination connection ID>_client.sqlog}: JSON-SEQ with the QUIC events of
         * draft-ietf-quic-qlog-quic-events-13, migration events included, which qvis opens. Off by default. Events
         * are written by a background thread; if the disk falls far behind, events are dropped rather than slowing
         * the connection. A file that cannot be created is logged, and the connection goes on without qlog.
         *
         * @param directory where the qlog files go
         * @return this builder
         */
        public Builder qlogDirectory(java.nio.file.Path directory) {
            this.qlogDirectory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /**
         * Appends the TLS secrets of every connection to {@code file} (created if missing), in the NSS key log format
         * that Wireshark and tshark read to decrypt QUIC: one line per traffic secret,
         * {@code CLIENT_HANDSHAKE_TRAFFIC_SECRET}, {@code SERVER_HANDSHAKE_TRAFFIC_SECRET},
         * {@code CLIENT_TRAFFIC_SECRET_0} and {@code SERVER_TRAFFIC_SECRET_0}, each followed by the ClientHello
         * random and the secret in hex. The secrets stay valid across migrations, so a capture of the whole
         * connection, every path included, can be decrypted. Lines are written during the handshake only.
         *
         * <p>Without this setting, the file named by the {@code SSLKEYLOGFILE} environment variable is used if the
         * variable is set and not empty (read when {@link #build()} runs); otherwise no secrets are written. Several
         * connections, clients, servers and processes may share one file: each appends whole lines. A file that
         * cannot be written is logged once, and connections go on without it.
         *
         * <p>Anyone who can read the file can decrypt the connections: use it for debugging only.
         *
         * @param file the key log file to append to
         * @return this builder
         */
        public Builder keyLogFile(java.nio.file.Path file) {
            this.keyLogFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * When connections move by themselves: on a lost network, a degrading path, a preferred network coming back.
         * Default {@link MigrationPolicy#defaults()}; {@link MigrationPolicy#disabled()} leaves every move to the
         * application.
         *
         * @param policy the policy for every connection of this client
         * @return this builder
         */
        public Builder migrationPolicy(MigrationPolicy policy) {
            this.migrationPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Where the migration policy learns which networks are usable. Default {@link NetworkMonitor#system()};
         * {@link NetworkMonitor#manual()} for the application's own signals.
         *
         * @param monitor the source of usable networks
         * @return this builder
         */
        public Builder networkMonitor(NetworkMonitor monitor) {
            this.networkMonitor = Objects.requireNonNull(monitor, "monitor");
            return this;
        }

        /**
         * Adds a listener for every packet of each connection, handshake included. See {@link PacketListener}.
         *
         * @param listener the listener to add
         * @return this builder
         */
        public Builder packetListener(PacketListener listener) {
            packetListeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Builds the client.
         *
         * @return the client, immutable
         * @throws IllegalStateException if the server address or application protocol is missing
         */
        public MigratingClient build() {
            Arguments.requireSet(server, "server(...) is required");
            Arguments.requireSet(applicationProtocol, "applicationProtocol(...) is required");
            if (!trustConfigured) {
                try {
                    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                    factory.init((KeyStore) null);
                    trustManager = firstX509(factory.getTrustManagers());
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("cannot load the JDK's default trust store: " + e.getMessage(), e);
                }
            }
            return new MigratingClient(this);
        }

        private Builder trust(X509TrustManager manager) {
            this.trustManager = manager;
            this.trustConfigured = true;
            return this;
        }

        private static X509TrustManager firstX509(TrustManager[] managers) throws GeneralSecurityException {
            for (TrustManager manager : managers) {
                if (manager instanceof X509TrustManager x509) {
                    return x509;
                }
            }
            throw new GeneralSecurityException("no X.509 trust manager available");
        }
    }
}
