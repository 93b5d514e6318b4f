package org.quicmigration.kwik;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationAction;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;
import org.quicmigration.core.migration.MigrationRefusal;
import org.quicmigration.core.migration.MigrationRefusedException;

/**
 * Internal: a client connection's migrations, from request to outcome: starts each in the core (on a standby path if
 * one fits, waiting for a spare peer ID if the policy's standby just gave one up), joins an application request to
 * the policy's migration to the same address, and completes every requester's future with the outcome. Runs on the
 * binding thread ({@link BindingThreads}).
 */
final class ClientMigrationRequests {

    private static final System.Logger LOG = System.getLogger(ClientMigrationDriver.class.getName());
    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    /** How long a migration waits for the spare ID a policy's standby held: the server's answer to its retirement. */
    private static final long SPARE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    static final long SPARE_POLL_MILLIS = 5;
    /**
     * How long a migration or a standby asked for right after the handshake waits for what it needs: the
     * handshake's confirmation (HANDSHAKE_DONE, RFC 9000 9: "An endpoint MUST NOT initiate connection migration
     * before the handshake is confirmed"), and the server's first spare connection ID, which follows it.
     */
    static final long EARLY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);

    private final ClientMigrationDriver driver;
    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final PeerConnectionIds peerIds;
    private final ClientMigrator migrator;
    private final ClientStandby standby;
    private final List<MigrationObserver> observers;
    private CompletableFuture<MigrationOutcome> pending;
    /** Why the migration in progress started, and the local address it goes to. */
    private MigrationCause pendingCause;
    private InetAddress pendingTarget;
    /** Application requests that joined the policy's migration to the same address. */
    private final List<CompletableFuture<MigrationOutcome>> joined = new ArrayList<>();

    ClientMigrationRequests(ClientMigrationDriver driver, QuicClientConnectionImpl connection, ClientPathSocket socket,
                            PeerConnectionIds peerIds, ClientMigrator migrator, ClientStandby standby,
                            List<MigrationObserver> observers) {
        this.driver = driver;
        this.connection = connection;
        this.socket = socket;
        this.peerIds = peerIds;
        this.migrator = migrator;
        this.standby = standby;
        this.observers = observers;
    }

    void start(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode, MigrationCause cause,
               CompletableFuture<MigrationOutcome> result) {
        start(requested, remote, mode, cause, result, -1);
    }

    /**
     * @param waitedNanos how long this migration has waited for the spare ID the policy's standby gave up; -1 if it
     *                    has not given one up
     */
    private void start(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode,
                       MigrationCause cause, CompletableFuture<MigrationOutcome> result, long waitedNanos) {
        if (standby.isPolicys() && !driver.stopped() && peerIds.spareCount() == 0 && migrator.standbyTuple().isPresent()
                && standby.standbyFor(requested, remote) == null) {
            // The policy's standby holds the only spare ID and this move goes elsewhere: the standby is given up;
            // the server answers its ID's retirement with a new one, which the move then takes.
            driver.perform(migrator.removeStandby());
            waitedNanos = 0;
        }
        if (waitedNanos >= 0 && waitedNanos < SPARE_WAIT_NANOS && peerIds.spareCount() == 0 && !driver.stopped()) {
            long waited = waitedNanos + TimeUnit.MILLISECONDS.toNanos(SPARE_POLL_MILLIS);
            THREAD.schedule(() -> start(requested, remote, mode, cause, result, waited), SPARE_POLL_MILLIS,
                    TimeUnit.MILLISECONDS);
            return;
        }
        startNow(requested, remote, mode, cause, result, System.nanoTime() + EARLY_WAIT_NANOS, false);
    }

    /**
     * @param deadline           until when a refusal that the handshake's end lifts is waited out
     * @param waitedForHandshake whether this migration has waited for the handshake's confirmation
     */
    private void startNow(InetSocketAddress requested, InetSocketAddress remote, MigrationMode mode,
                          MigrationCause cause, CompletableFuture<MigrationOutcome> result, long deadline,
                          boolean waitedForHandshake) {
        boolean policyOwn = isPolicyCause(cause);
        if (driver.stopped()) {
            result.completeExceptionally(new SocketException("the connection has ended"));
            return;
        }
        if (!policyOwn && pending != null && pendingCause != null && isPolicyCause(pendingCause)
                && requested.getPort() == 0 && requested.getAddress().equals(pendingTarget)) {
            // The policy is already moving there (the application reacted to the same network change): one
            // migration, both told how it ended.
            joined.add(result);
            return;
        }
        try {
            boolean confirmed = KwikHandshake.handshakeConfirmed(connection);
            boolean disabled = connection.getPeerTransportParameters() != null
                    && connection.getPeerTransportParameters().getDisableMigration();
            Tuple standbyPath = standby.standbyFor(requested, remote);
            InetSocketAddress bound;
            if (standbyPath != null) {
                bound = standbyPath.local(); // its socket is open and its path validated: the core switches at once
            } else {
                migrator.checkMigrationAllowed(confirmed, disabled, remote);
                if (requested.getPort() != 0 && socket.hasPath(requested) && !requested.equals(socket.activeLocal())) {
                    socket.removePathAndRelease(requested); // a path left a moment ago, still receiving: bind it again
                }
                bound = socket.addPath(requested, remote);
            }
            List<MigrationAction> actions;
            try {
                actions = migrator.migrate(driver.now(), new Tuple(bound, remote), mode, cause, confirmed, disabled,
                        driver.pto());
            } catch (MigrationRefusedException | RuntimeException e) {
                if (standbyPath == null) {
                    socket.removePath(bound);
                }
                throw e;
            }
            pending = result;
            pendingCause = cause;
            pendingTarget = bound.getAddress();
            if (!policyOwn) {
                driver.policy().migrationStarted(cause);
            }
            // Told on the next turn of the binding thread, after the actions that ended the migration are done.
            result.whenComplete((outcome, error) -> THREAD.execute(() -> ended(outcome)));
            driver.perform(actions);
        } catch (MigrationRefusedException e) {
            boolean unconfirmed = e.refusal() == MigrationRefusal.HANDSHAKE_NOT_CONFIRMED;
            boolean idBehind = e.refusal() == MigrationRefusal.NO_SPARE_CONNECTION_ID && waitedForHandshake
                    && migrator.standbyTuple().isEmpty();
            if ((unconfirmed || idBehind) && System.nanoTime() < deadline && !driver.stopped()) {
                THREAD.schedule(() -> startNow(requested, remote, mode, cause, result, deadline,
                        waitedForHandshake || unconfirmed), SPARE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            refused(requested, cause, policyOwn, result, e);
        } catch (SocketException | RuntimeException e) {
            refused(requested, cause, policyOwn, result, e);
        }
    }

    private void refused(InetSocketAddress requested, MigrationCause cause, boolean policyOwn,
                         CompletableFuture<MigrationOutcome> result, Exception e) {
        result.completeExceptionally(e);
        if (policyOwn) {
            LOG.log(System.Logger.Level.INFO, () -> "cannot move to " + requested + " (" + cause + "): " + e.getMessage());
            THREAD.execute(() -> ended(null));
        }
    }

    private static boolean isPolicyCause(MigrationCause cause) {
        return cause != MigrationCause.APPLICATION && cause != MigrationCause.SERVER_PREFERRED_ADDRESS;
    }

    private void ended(MigrationOutcome outcome) {
        if (driver.stopped()) {
            return;
        }
        driver.policy().migrationEnded(socket.activeLocal(), outcome != null && outcome.validated());
    }

    /** Why the migration in progress started; the application's if none is. */
    MigrationCause cause() {
        return pendingCause == null ? MigrationCause.APPLICATION : pendingCause;
    }

    /** The core's Finished action: observers hear of a failed validation, and every requester of the outcome. */
    void finish(MigrationAction.Finished finished) {
        MigrationOutcome outcome = finished.outcome();
        if (!outcome.validated()) {
            observers.forEach(o -> o.validationFailed(outcome.newTuple()));
        }
        CompletableFuture<MigrationOutcome> done = pending;
        pending = null;
        pendingCause = null;
        pendingTarget = null;
        if (!outcome.validated() && !outcome.fellBack() && !outcome.oldTuple().equals(outcome.newTuple())
                && socket.activeLocal().equals(outcome.newTuple().local())) {
            LOG.log(System.Logger.Level.INFO, () -> "path " + outcome.newTuple() + " did not answer, but the old path"
                    + " failed: staying on it");
        }
        if (done != null) {
            done.complete(outcome);
        }
        joined.forEach(future -> future.complete(outcome));
        joined.clear();
    }

    /** The connection ended: every requester still waiting is told so. */
    void stop() {
        SocketException closed = new SocketException("connection closed during migration");
        if (pending != null) {
            pending.completeExceptionally(closed);
            pending = null;
        }
        joined.forEach(future -> future.completeExceptionally(closed));
        joined.clear();
    }
}
