package org.quicmigration;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import org.quicmigration.kwik.KwikConnection;

/**
 * What a {@link MigrationServer} does with each connection that completed its handshake: gives it its tracing and
 * the server-wide migration listener, then runs the application's handler on a handler thread of its own. Called
 * on the binding's thread, so nothing here blocks; thread-safe.
 */
final class ServerConnections implements Consumer<KwikConnection> {

    private static final System.Logger LOG = System.getLogger(ServerConnections.class.getName());

    private final Consumer<MigratingConnection> handler;
    /** Runs each connection's handler; a handler may block. Shut down (interrupting them) when the server closes. */
    private final ExecutorService handlers = Executors.newCachedThreadPool(
            DaemonThreads.named("quic-migration-handler"));
    private final MigrationListener everyConnection;
    private final Path qlogDirectory;
    private final List<PacketListener> packetListeners;
    private final boolean acceptMigration;

    ServerConnections(Consumer<MigratingConnection> handler, MigrationListener everyConnection, Path qlogDirectory,
                      List<PacketListener> packetListeners, boolean acceptMigration) {
        this.handler = handler;
        this.everyConnection = everyConnection;
        this.qlogDirectory = qlogDirectory;
        this.packetListeners = List.copyOf(packetListeners);
        this.acceptMigration = acceptMigration;
    }

    @Override
    public void accept(KwikConnection kwik) {
        ConnectionTracing tracing = new ConnectionTracing(MigrationEvents.THREAD, packetListeners);
        tracing.attach(kwik, qlogDirectory, true);
        tracing.connected(true, acceptMigration);
        MigratingConnection connection = new MigratingConnection(kwik, tracing);
        if (everyConnection != null) {
            connection.addMigrationListener(everyConnection);
        }
        handlers.execute(() -> run(connection));
    }

    /** Interrupts the running handlers; a connection that arrives later is not handed to one. */
    void close() {
        handlers.shutdownNow();
    }

    private void run(MigratingConnection connection) {
        try {
            handler.accept(connection);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "connection handler failed for " + connection + "; closing it", e);
            connection.close(0x100, "server handler failed");
        }
    }
}
