package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.quicmigration.kwik.KwikConnection;
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

    private static final System.Logger LOG = System.getLogger(MigrationServer.class.getName());

    private final KwikServer server;
    private final ServerCertificate certificate;
    private final ExecutorService handlers;

    private MigrationServer(KwikServer server, ServerCertificate certificate, ExecutorService handlers) {
        this.server = server;
        this.certificate = certificate;
        this.handlers = handlers;
    }

    /** A builder with the defaults: any local address, port 0, idle timeout 30 s. */
    public static Builder builder() {
        return new Builder();
    }

    /** The address the server listens on, with the real port if port 0 was asked for. */
    public InetSocketAddress localAddress() {
        return server.localAddress();
    }

    /** The certificate the server presents; clients can pin {@code certificate().certificate()}. */
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
        handlers.shutdownNow();
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
        private boolean acceptClientMigration;

        private Builder() {
        }

        /** Listens on this port on every local address (0, the default, picks a free port). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, was " + port);
            }
            this.bindAddress = new InetSocketAddress(port);
            return this;
        }

        /** Listens on this address and port only. */
        public Builder bindAddress(InetSocketAddress bindAddress) {
            this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
            return this;
        }

        /** The certificate and key to present. Required, or use {@link #selfSignedCertificate(String)}. */
        public Builder certificate(ServerCertificate certificate) {
            this.certificate = Objects.requireNonNull(certificate, "certificate");
            return this;
        }

        /** Presents a fresh in-memory self-signed certificate for this host name. */
        public Builder selfSignedCertificate(String hostName) {
            this.certificate = ServerCertificate.selfSigned(hostName);
            return this;
        }

        /** The ALPN protocol id clients must ask for. Required. */
        public Builder applicationProtocol(String applicationProtocol) {
            this.applicationProtocol = MigratingClient.requireText(applicationProtocol, "applicationProtocol");
            return this;
        }

        /**
         * Called once for each new connection, on a dedicated daemon thread. Exceptions it throws are logged and
         * the connection is closed.
         */
        public Builder onConnection(Consumer<MigratingConnection> handler) {
            this.onConnection = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** How long a connection may stay silent before it ends (default 30 s). */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = MigratingClient.requirePositive(idleTimeout, "idleTimeout");
            return this;
        }

        /** How many bytes a client may send on one stream ahead of the handler's reads (default 1 MiB). */
        public Builder streamReceiveWindow(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("stream receive window must be at least 1024 bytes, was " + bytes);
            }
            this.streamReceiveWindow = bytes;
            return this;
        }

        /** How many bidirectional streams a client may have open at once (default 100). */
        public Builder maxStreamsPerConnection(int streams) {
            if (streams < 1) {
                throw new IllegalArgumentException("a connection needs at least one stream, was " + streams);
            }
            this.maxStreamsPerConnection = streams;
            return this;
        }

        /**
         * Whether clients may migrate (default false). When true the server does not send
         * disable_active_migration and follows a client's datagrams to its new address.
         *
         * <p><b>Experimental:</b> this release follows the latest address without validating it first and without
         * limiting what it sends there, so an attacker who can replay a client's packet from a spoofed address
         * can redirect that connection's traffic. Server-side path validation (RFC 9000 9.3) lifts this; until
         * then enable it only on networks you trust, such as tests.
         */
        public Builder acceptClientMigration(boolean accept) {
            this.acceptClientMigration = accept;
            return this;
        }

        /**
         * Binds the socket and starts accepting connections.
         *
         * @throws IllegalStateException if the certificate, application protocol or handler is missing
         * @throws IOException if the address cannot be bound
         */
        public MigrationServer start() throws IOException {
            if (certificate == null) {
                throw new IllegalStateException("certificate(...) or selfSignedCertificate(...) is required");
            }
            if (applicationProtocol == null) {
                throw new IllegalStateException("applicationProtocol(...) is required");
            }
            if (onConnection == null) {
                throw new IllegalStateException("onConnection(...) is required");
            }
            ExecutorService handlers = Executors.newCachedThreadPool(daemonThreads("quic-migration-handler"));
            Consumer<MigratingConnection> handler = onConnection;
            ServerSettings settings = new ServerSettings(bindAddress, certificate.chain(), certificate.privateKey(),
                    applicationProtocol, idleTimeout, streamReceiveWindow, maxStreamsPerConnection,
                    acceptClientMigration);
            try {
                KwikServer server = KwikServer.start(settings, (KwikConnection kwik) -> {
                    MigratingConnection connection = new MigratingConnection(kwik);
                    handlers.execute(() -> runHandler(handler, connection));
                });
                return new MigrationServer(server, certificate, handlers);
            } catch (IOException | RuntimeException e) {
                handlers.shutdownNow();
                throw e;
            }
        }
    }

    private static void runHandler(Consumer<MigratingConnection> handler, MigratingConnection connection) {
        try {
            handler.accept(connection);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "connection handler failed for " + connection + "; closing it", e);
            connection.close(0x100, "server handler failed");
        }
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
