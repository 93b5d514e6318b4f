package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import org.quicmigration.kwik.KwikServer;
import org.quicmigration.kwik.ServerSettings;

/**
 * A QUIC server on one UDP address. Each connection that completes its handshake is handed to the
 * {@link Builder#onConnection(Consumer) connection handler} on a thread of its own, so the handler may block
 * (for example in {@link MigratingConnection#acceptStream(Duration)}).
 *
 * <pre>{@code
 * try (MigrationServer server = MigrationServer.builder()
 *         .port(4433)
 *         .selfSignedCertificate("localhost")
 *         .applicationProtocol("echo")
 *         .onConnection(connection -> serve(connection))
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} stops accepting, closes every connection and interrupts handler threads.
 */
public final class MigrationServer implements AutoCloseable {

    private final KwikServer server;
    private final ServerCertificate certificate;
    private final ServerConnections connections;

    private MigrationServer(KwikServer server, ServerCertificate certificate, ServerConnections connections) {
        this.server = server;
        this.certificate = certificate;
        this.connections = connections;
    }

    /** {@return a builder with the defaults: any local address, port 0, idle timeout 30 s} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the address the server listens on, with the real port if port 0 was asked for} */
    public InetSocketAddress localAddress() {
        return server.localAddress();
    }

    /**
     * The preferred addresses the server offers and listens on, with their bound ports (IPv4 first); empty unless
     * {@link Builder#preferredAddress} was set.
     *
     * @return the bound preferred addresses, IPv4 first; unmodifiable
     */
    public List<InetSocketAddress> preferredAddresses() {
        return server.preferredAddresses();
    }

    /** {@return the certificate the server presents}; clients can pin {@code certificate().certificate()}. */
    public ServerCertificate certificate() {
        return certificate;
    }

    /** Test hook: silently drops datagrams from matching client addresses, as a black-holed network would. */
    void dropDatagramsFrom(java.util.function.Predicate<InetSocketAddress> filter) {
        server.dropDatagramsFrom(filter);
    }

    /** Stops the server: closes its socket and connections and interrupts running handlers. Idempotent. */
    @Override
    public void close() {
        server.close();
        connections.close();
    }

    @Override
    public String toString() {
        return "MigrationServer[" + localAddress() + "]";
    }

    /** Configures and starts a {@link MigrationServer}. Not thread-safe. */
    public static final class Builder {
        private InetSocketAddress bindAddress = new InetSocketAddress(0);
        private ServerCertificate certificate;
        private String applicationProtocol;
        private Consumer<MigratingConnection> onConnection;
        private Duration idleTimeout = Duration.ofSeconds(30);
        private long streamReceiveWindow = 1024 * 1024;
        private int maxStreamsPerConnection = 100;
        private boolean acceptClientMigration = true;
        private int amplificationFactor = 3;
        private int maxPathsPerConnection = 8;
        private Duration pathValidationTimeout;
        private Duration pathMemory = org.quicmigration.core.migration.ServerPathManager.DEFAULT_MEMORY;
        private InetSocketAddress preferredIpv4;
        private InetSocketAddress preferredIpv6;
        private MigrationListener migrationListener;
        private java.nio.file.Path qlogDirectory;
        private final List<PacketListener> packetListeners = new java.util.ArrayList<>();
        private java.nio.file.Path keyLogFile;

        private Builder() {
        }

        /**
         * Listens on this port on every local address (0, the default, picks a free port).
         *
         * @param port the UDP port, 0 to 65535
         * @return this builder
         * @throws IllegalArgumentException if the port is out of range
         */
        public Builder port(int port) {
            this.bindAddress = new InetSocketAddress((int) Arguments.requireBetween(port, 0, 65535, "port"));
            return this;
        }

        /**
         * Listens on this address and port only.
         *
         * @param bindAddress the local address and UDP port; port 0 picks a free one
         * @return this builder
         */
        public Builder bindAddress(InetSocketAddress bindAddress) {
            this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
            return this;
        }

        /**
         * The certificate and key to present. Required, or use {@link #selfSignedCertificate(String)}.
         *
         * @param certificate the certificate chain and private key
         * @return this builder
         */
        public Builder certificate(ServerCertificate certificate) {
            this.certificate = Objects.requireNonNull(certificate, "certificate");
            return this;
        }

        /**
         * Presents a fresh in-memory self-signed certificate for this host name.
         *
         * @param hostName the name clients verify, for example {@code "localhost"}
         * @return this builder
         */
        public Builder selfSignedCertificate(String hostName) {
            this.certificate = ServerCertificate.selfSigned(hostName);
            return this;
        }

        /**
         * The ALPN protocol id clients must ask for. Required.
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
         * Called once for each new connection, on a dedicated daemon thread. Exceptions it throws are logged and
         * the connection is closed.
         *
         * @param handler what to do with each connection; it may block
         * @return this builder
         */
        public Builder onConnection(Consumer<MigratingConnection> handler) {
            this.onConnection = Objects.requireNonNull(handler, "handler");
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
         * How many bytes a client may send on one stream ahead of the handler's reads (default 1 MiB).
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
         * How many bidirectional streams a client may have open at once (default 100).
         *
         * @param streams the limit, at least 1
         * @return this builder
         * @throws IllegalArgumentException if it is below 1
         */
        public Builder maxStreamsPerConnection(int streams) {
            this.maxStreamsPerConnection = (int) Arguments.requireBetween(streams, 1, Long.MAX_VALUE, "streams");
            return this;
        }

        /**
         * Whether clients may migrate (default true). When true the server does not send disable_active_migration
         * and follows a client to a new address the way RFC 9000 9.3 asks: it moves on the client's newest
         * non-probing packet, validates the new address with PATH_CHALLENGE (and the previous one, 9.3.3), sends
         * the new address at most {@link #amplificationFactor(int)} times what it received from it until then,
         * switches to a fresh connection ID of the client's unless the client kept its own (a NAT rebinding), and
         * returns to the last validated address if validation fails. A spoofed or replayed packet therefore cannot
         * take a connection away from its client. When false, the server advertises disable_active_migration and
         * ignores datagrams from any address but the client's first.
         *
         * @param accept whether clients may migrate
         * @return this builder
         */
        public Builder acceptClientMigration(boolean accept) {
            this.acceptClientMigration = accept;
            return this;
        }

        /**
         * How many times the bytes received from an unvalidated client address the server may send there
         * (default 3, RFC 9000 8's limit; at least 1 and at most 3).
         *
         * @param factor the factor, 1 to 3
         * @return this builder
         * @throws IllegalArgumentException if it is outside 1 to 3
         */
        public Builder amplificationFactor(int factor) {
            this.amplificationFactor = (int) Arguments.requireBetween(factor, 1, 3, "amplification factor (RFC 9000 8)");
            return this;
        }

        /**
         * How many client addresses one connection keeps state for (default 8, at least 3: during a validation the
         * path in use, the last validated one and a new address). A client (or an attacker replaying its packets)
         * that hops over more addresses makes the server forget the oldest idle ones, so memory per connection stays
         * bounded.
         *
         * @param paths the limit, 3 to 1024
         * @return this builder
         * @throws IllegalArgumentException if it is outside 3 to 1024
         */
        public Builder maxPathsPerConnection(int paths) {
            this.maxPathsPerConnection = (int) Arguments.requireBetween(paths,
                    org.quicmigration.core.migration.ServerPathManager.MIN_PATHS, 1024, "paths per connection");
            return this;
        }

        /**
         * How long a client's new address has to answer a PATH_CHALLENGE before the server goes back to the last
         * validated address. Default: RFC 9000 8.2.4's three times the larger of the current and the new path's
         * probe timeout.
         *
         * @param timeout how long validation may take; positive
         * @return this builder
         * @throws IllegalArgumentException if it is zero or negative
         */
        public Builder pathValidationTimeout(Duration timeout) {
            this.pathValidationTimeout = Arguments.requirePositive(timeout, "pathValidationTimeout");
            return this;
        }

        /**
         * How long a connection remembers a client address it validated, counted from the last datagram from it
         * (default 10 minutes). A client that comes back to such an address (a standby path it keeps probing, see
         * {@link MigratingConnection#addStandbyPath}, or a network it used a moment ago) is followed with no
         * validation first and no three-times limit: RFC 9000 9.3, "An endpoint MAY skip validation of a peer address
         * if that address has been seen recently". The path the client left is still validated again (9.3.3). At
         * most {@link #maxPathsPerConnection} addresses are kept, addresses never validated forgotten first.
         *
         * @param memory how long to remember; positive
         * @return this builder
         * @throws IllegalArgumentException if it is zero or negative
         */
        public Builder pathMemory(Duration memory) {
            this.pathMemory = Arguments.requirePositive(memory, "pathMemory");
            return this;
        }

        /**
         * Receives the path and migration events of every connection (client address changes, validations,
         * migrations completed or abandoned, connection ID changes), from the moment the connection is handed to
         * {@link #onConnection}. Per-connection listeners can be added with
         * {@link MigratingConnection#addMigrationListener}.
         *
         * @param listener the listener for every connection
         * @return this builder
         */
        public Builder migrationListener(MigrationListener listener) {
            this.migrationListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Writes a qlog file for each connection into {@code directory} (created if missing), named
         * {@code <original destination connection ID>_server.sqlog}, from the end of its handshake on. See
         * {@link MigratingClient.Builder#qlogDirectory} for the format. Off by default.
         *
         * @param directory where the qlog files go
         * @return this builder
         */
        public Builder qlogDirectory(java.nio.file.Path directory) {
            this.qlogDirectory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /**
         * Appends the TLS secrets of every connection to {@code file}, in the NSS key log format that Wireshark and
         * tshark read; without this setting, the file named by a set, non-empty {@code SSLKEYLOGFILE} environment
         * variable (read when {@link #start()} runs). See {@link MigratingClient.Builder#keyLogFile} for the format
         * and the rules; client and server may write the same file. For debugging only: the file decrypts the
         * connections.
         *
         * @param file the key log file to append to
         * @return this builder
         */
        public Builder keyLogFile(java.nio.file.Path file) {
            this.keyLogFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * Adds a listener for every packet of every connection, from the end of its handshake on.
         *
         * @param listener the listener to add
         * @return this builder
         */
        public Builder packetListener(PacketListener listener) {
            packetListeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Offers clients a preferred address (RFC 9000 9.6): the server also listens on {@code ipv4} and/or
         * {@code ipv6}, and tells every client, in its transport parameters, to move there once the handshake is
         * confirmed, with a connection ID of its own (sequence 1, 5.1.1). Typical use: the handshake goes to a
         * shared address (anycast, a load balancer) and the connection then moves to this machine's own address.
         *
         * <p>The server answers the client's PATH_CHALLENGE from the preferred address, and follows the client
         * there only after it sent a non-probing packet there and the server validated the path; until then it
         * keeps sending from the original address (9.6.2). Handshake packets sent to a preferred address are
         * dropped. A client that does not move simply stays on the original address.
         *
         * <p>Each address must be a concrete address of its family (not a wildcard); port 0 picks a free port,
         * and the port bound is what clients are told ({@link MigrationServer#preferredAddresses()}). Port 0 picks
         * one whose low byte is below 0x80: Kwik clients up to 0.10.9 cannot decode the others. With
         * {@link #acceptClientMigration(boolean) acceptClientMigration(false)} the server still advertises
         * disable_active_migration, so conforming clients move only to the preferred address; RFC 9000 9 lets the
         * server validate and follow any other move all the same, and it does.
         *
         * @param ipv4 the IPv4 preferred address, or null
         * @param ipv6 the IPv6 preferred address, or null
         * @return this builder
         * @throws IllegalArgumentException if both are null, or one is a wildcard or of the wrong family
         */
        public Builder preferredAddress(InetSocketAddress ipv4, InetSocketAddress ipv6) {
            Arguments.checkPreferred(ipv4, ipv6);
            this.preferredIpv4 = ipv4;
            this.preferredIpv6 = ipv6;
            return this;
        }

        /**
         * Binds the socket (and those of the preferred addresses) and starts accepting connections.
         *
         * @return the running server; close it to stop
         * @throws IllegalStateException if the certificate, application protocol or handler is missing
         * @throws IOException if an address cannot be bound
         */
        public MigrationServer start() throws IOException {
            Arguments.requireSet(certificate, "certificate(...) or selfSignedCertificate(...) is required");
            Arguments.requireSet(applicationProtocol, "applicationProtocol(...) is required");
            Arguments.requireSet(onConnection, "onConnection(...) is required");
            ServerSettings settings = new ServerSettings(bindAddress, certificate.chain(), certificate.privateKey(),
                    applicationProtocol, idleTimeout, streamReceiveWindow, maxStreamsPerConnection,
                    acceptClientMigration, amplificationFactor, maxPathsPerConnection, pathValidationTimeout,
                    pathMemory, preferredIpv4, preferredIpv6, KeyLogFiles.open(keyLogFile));
            ServerConnections connections = new ServerConnections(onConnection, migrationListener, qlogDirectory,
                    packetListeners, acceptClientMigration);
            try {
                return new MigrationServer(KwikServer.start(settings, connections), certificate, connections);
            } catch (IOException | RuntimeException e) {
                connections.close();
                throw e;
            }
        }
    }
}
