package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;

/**
 * Internal: a client's move to the server's preferred_address (RFC 9000 9.6.1), once its handshake is confirmed.
 * Runs on the binding thread ({@link BindingThreads}).
 */
final class PreferredAddressMove {

    private static final System.Logger LOG = System.getLogger(ClientMigrationDriver.class.getName());
    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;
    /** How long to wait for the handshake to be confirmed before giving up on the preferred address. */
    static final long PREFERRED_ADDRESS_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final ClientMigrationDriver driver;
    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final ClientMigrationRequests requests;
    private final InetSocketAddress server;
    private final InetSocketAddress preferred;

    PreferredAddressMove(ClientMigrationDriver driver, QuicClientConnectionImpl connection, ClientPathSocket socket,
                         ClientMigrationRequests requests, InetSocketAddress server, InetSocketAddress preferred) {
        this.driver = driver;
        this.connection = connection;
        this.socket = socket;
        this.requests = requests;
        this.server = server;
        this.preferred = preferred;
    }

    /**
     * RFC 9000 9.6.1: "the client ... SHOULD initiate path validation ... using the server's preferred address
     * ... once the handshake is confirmed". Waits for confirmation on the binding thread, then migrates to it.
     */
    void followWhenConfirmed(long deadlineNanos) {
        THREAD.schedule(() -> {
            if (driver.stopped()) {
                return;
            }
            if (!KwikHandshake.handshakeConfirmed(connection)) {
                if (System.nanoTime() < deadlineNanos) {
                    followWhenConfirmed(deadlineNanos);
                } else {
                    LOG.log(System.Logger.Level.WARNING,
                            "handshake not confirmed in time; not moving to preferred address " + preferred);
                }
                return;
            }
            CompletableFuture<MigrationOutcome> outcome = new CompletableFuture<>();
            // RFC 9000 9.6.1: validate first; "If path validation succeeds, the client SHOULD immediately begin
            // sending all future packets to the new server address ... If path validation fails, the client MUST
            // continue sending all future packets to the server's original IP address."
            requests.start(new InetSocketAddress(socket.activeLocal().getAddress(), 0), preferred,
                    MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.SERVER_PREFERRED_ADDRESS, outcome);
            outcome.whenComplete((result, error) -> {
                if (error != null) {
                    LOG.log(System.Logger.Level.WARNING,
                            "cannot move to the server's preferred address " + preferred + ": " + error);
                } else if (!result.validated()) {
                    LOG.log(System.Logger.Level.WARNING,
                            "server's preferred address " + preferred + " did not answer; staying on " + server);
                }
            });
        }, 5, TimeUnit.MILLISECONDS);
    }
}
