package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationAction;
import org.quicmigration.core.migration.MigrationRefusal;
import org.quicmigration.core.migration.MigrationRefusedException;
import org.quicmigration.core.migration.StandbyState;

/**
 * Internal: a client connection's standby path (see {@link ClientMigrator#addStandby}): opens its socket, starts it
 * in the core once the core allows it, gives it up, reports its changes, and remembers whether it is the
 * network-change policy's or the application's. Runs on the binding thread ({@link BindingThreads}).
 */
final class ClientStandby {

    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    private final ClientMigrationDriver driver;
    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final ClientMigrator migrator;
    private final ClientPathActions paths;
    private final List<MigrationObserver> observers;
    /** Whether the standby, if any, is the policy's (the application's own is never given up for a move). */
    private boolean policyStandby;

    ClientStandby(ClientMigrationDriver driver, QuicClientConnectionImpl connection, ClientPathSocket socket,
                  ClientMigrator migrator, ClientPathActions paths, List<MigrationObserver> observers) {
        this.driver = driver;
        this.connection = connection;
        this.socket = socket;
        this.migrator = migrator;
        this.paths = paths;
        this.observers = observers;
    }

    /** Whether the standby, if any, is the network-change policy's. */
    boolean isPolicys() {
        return policyStandby;
    }

    /**
     * Keeps a validated standby path on {@code requested}, probed again every {@code reprobeInterval}; any thread.
     *
     * @return completes with the bound local address once the first probe is queued; fails with
     *         {@link MigrationRefusedException} or {@link SocketException} (address unusable) if nothing started
     */
    CompletableFuture<InetSocketAddress> add(InetSocketAddress requested, Duration reprobeInterval, boolean forPolicy) {
        CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + ClientMigrationRequests.EARLY_WAIT_NANOS;
        THREAD.execute(() -> start(requested, reprobeInterval, forPolicy, result, deadline));
        return result;
    }

    private void start(InetSocketAddress requested, Duration reprobeInterval, boolean forPolicy,
                       CompletableFuture<InetSocketAddress> result, long deadline) {
        if (driver.stopped()) {
            result.completeExceptionally(new SocketException("the connection has ended"));
            return;
        }
        InetSocketAddress bound = null;
        try {
            boolean confirmed = KwikHandshake.handshakeConfirmed(connection);
            boolean disabled = connection.getPeerTransportParameters() != null
                    && connection.getPeerTransportParameters().getDisableMigration();
            migrator.checkStandbyAllowed(confirmed, disabled, paths.activeRemote());
            bound = socket.addPath(requested, paths.activeRemote());
            List<MigrationAction> actions = migrator.addStandby(driver.now(), new Tuple(bound, paths.activeRemote()),
                    confirmed, disabled, driver.pto(), reprobeInterval);
            policyStandby = forPolicy;
            result.complete(bound);
            driver.perform(actions);
        } catch (MigrationRefusedException e) {
            if (bound != null && migrator.standbyTuple().isEmpty()) {
                socket.removePath(bound);
            }
            boolean soon = e.refusal() == MigrationRefusal.HANDSHAKE_NOT_CONFIRMED
                    || e.refusal() == MigrationRefusal.NO_SPARE_CONNECTION_ID && migrator.standbyTuple().isEmpty();
            if (soon && System.nanoTime() < deadline) {
                THREAD.schedule(() -> start(requested, reprobeInterval, forPolicy, result, deadline),
                        ClientMigrationRequests.SPARE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                result.completeExceptionally(e);
            }
        } catch (SocketException | RuntimeException e) {
            if (bound != null && migrator.standbyTuple().isEmpty()) {
                socket.removePath(bound);
            }
            result.completeExceptionally(e);
        }
    }

    /** Gives up the standby path, if any: its ID is retired and its socket closed; any thread. */
    CompletableFuture<Void> remove() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        THREAD.execute(() -> {
            if (!driver.stopped()) {
                driver.perform(migrator.removeStandby());
            }
            result.complete(null);
        });
        return result;
    }

    /** The core's StandbyChanged action: observers hear of it, and the policy when its standby is used or gone. */
    void changed(MigrationAction.StandbyChanged standby) {
        observers.forEach(o -> o.standbyChanged(standby.tuple(), standby.state(), standby.roundTripNanos()));
        if (standby.state() == StandbyState.IN_USE || standby.state() == StandbyState.REMOVED) {
            if (policyStandby) {
                THREAD.execute(() -> {
                    if (!driver.stopped()) {
                        driver.policy().standbyChanged(null);
                    }
                });
            }
            policyStandby = false;
        }
    }

    /** The standby path a move to {@code requested} (any port if 0) and {@code remote} goes to, or null. */
    Tuple standbyFor(InetSocketAddress requested, InetSocketAddress remote) {
        return migrator.standbyTuple()
                .filter(tuple -> tuple.remote().equals(remote) && sameLocal(requested, tuple.local())).orElse(null);
    }

    /** Whether {@code requested} (any port if 0) names the bound address {@code local}. */
    private static boolean sameLocal(InetSocketAddress requested, InetSocketAddress local) {
        return requested.getAddress().equals(local.getAddress())
                && (requested.getPort() == 0 || requested.getPort() == local.getPort());
    }
}
