package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.migration.MigrationOutcome;
import org.quicmigration.core.migration.MigrationRefusedException;
import org.quicmigration.kwik.ClientMigrationDriver;

/**
 * The client side of a {@link MigratingConnection}'s {@code migrate} and standby calls: hands them to the binding's
 * driver and turns what comes back into the public results and exceptions. Thread-safe, as the connection.
 */
final class ClientMigrations {

    /**
     * Completes the futures {@code migrate} returns: a stage the application chains to one runs here, never on the
     * binding thread that serves every connection, and one that blocks holds up nothing else.
     */
    static final ExecutorService COMPLETIONS = Executors.newCachedThreadPool(
            DaemonThreads.named("quic-migration-completion"));

    private final MigratingConnection connection;
    private final StandbyReports standby;

    ClientMigrations(MigratingConnection connection, StandbyReports standby) {
        this.connection = connection;
        this.standby = standby;
    }

    CompletableFuture<MigrationResult> migrate(ClientMigrationDriver driver, InetSocketAddress newLocal,
                                               MigrationStrategy strategy) {
        long start = System.nanoTime();
        CompletableFuture<MigrationResult> result = new CompletableFuture<>();
        if (!connection.isOpen()) {
            result.completeExceptionally(closed());
            return result;
        }
        MigrationMode mode = strategy == MigrationStrategy.VALIDATE_THEN_SWITCH
                ? MigrationMode.VALIDATE_THEN_SWITCH : MigrationMode.SWITCH_THEN_VALIDATE;
        driver.migrate(newLocal, mode).whenCompleteAsync((outcome, error) -> {
            if (error != null) {
                result.completeExceptionally(translate(error, newLocal));
            } else if (!outcome.validated()) {
                result.completeExceptionally(timedOut(outcome));
            } else {
                result.complete(new MigrationResult(path(outcome.oldTuple()), path(outcome.newTuple()),
                        outcome.oldPeerId().toString(), outcome.newPeerId().toString(),
                        Duration.ofNanos(outcome.validationRttNanos()), Duration.ofNanos(System.nanoTime() - start),
                        outcome.challengesSent(), MigrationCause.of(outcome.cause())));
            }
        }, COMPLETIONS);
        return result;
    }

    StandbyPath addStandby(ClientMigrationDriver driver, InetSocketAddress local, Duration probeInterval)
            throws MigrationException {
        if (!connection.isOpen()) {
            throw closed();
        }
        InetSocketAddress bound;
        try {
            bound = driver.addStandby(local, probeInterval).get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause(), local);
        } catch (TimeoutException e) {
            throw new MigrationException(MigrationException.Reason.ADDRESS_UNUSABLE,
                    "the standby on " + local + " did not start within 5 s", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(MigrationException.Reason.ADDRESS_UNUSABLE,
                    "interrupted while starting the standby on " + local, e);
        }
        StandbyPath handle = new StandbyPath(connection, bound, probeInterval);
        standby.adopt(handle);
        return handle;
    }

    void removeStandby(ClientMigrationDriver driver, StandbyPath handle) {
        if (driver != null && standby.isCurrent(handle) && connection.isOpen()) {
            driver.removeStandby();
        }
    }

    private MigrationException closed() {
        return new MigrationException(MigrationException.Reason.CONNECTION_CLOSED, "the connection is closed",
                connection.closedExceptionBehind(new IOException("closed")));
    }

    private MigrationException timedOut(MigrationOutcome outcome) {
        boolean stayedOnNew = !outcome.fellBack() && connection.localAddress().equals(outcome.newTuple().local());
        return new MigrationException(MigrationException.Reason.VALIDATION_TIMED_OUT,
                "path " + outcome.newTuple() + " did not answer " + outcome.challengesSent()
                        + " PATH_CHALLENGE(s) in " + outcome.totalNanos() / 1_000_000 + " ms; the connection "
                        + (outcome.fellBack() ? "is back on " + outcome.oldTuple()
                        : stayedOnNew ? "stays on it, because " + outcome.oldTuple() + " failed"
                        : "stayed on " + outcome.oldTuple()), null,
                outcome.fellBack() ? path(outcome.oldTuple()) : null);
    }

    private MigrationException translate(Throwable error, InetSocketAddress newLocal) {
        if (error instanceof CompletionException && error.getCause() != null) {
            error = error.getCause();
        }
        if (error instanceof MigrationRefusedException refused) {
            MigrationException.Reason reason = switch (refused.refusal()) {
                case HANDSHAKE_NOT_CONFIRMED -> MigrationException.Reason.HANDSHAKE_NOT_CONFIRMED;
                case PEER_DISABLED_MIGRATION -> MigrationException.Reason.PEER_DISABLED_MIGRATION;
                case NO_SPARE_CONNECTION_ID -> MigrationException.Reason.NO_SPARE_CONNECTION_ID;
                case MIGRATION_IN_PROGRESS -> MigrationException.Reason.MIGRATION_IN_PROGRESS;
                case STANDBY_EXISTS -> MigrationException.Reason.STANDBY_EXISTS;
            };
            return new MigrationException(reason, refused.getMessage(), refused);
        }
        if (!connection.isOpen()) {
            return new MigrationException(MigrationException.Reason.CONNECTION_CLOSED,
                    "the connection closed during the migration", error);
        }
        if (error instanceof java.net.SocketException) {
            return new MigrationException(MigrationException.Reason.ADDRESS_UNUSABLE,
                    "cannot use local address " + newLocal + ": " + error.getMessage(), error);
        }
        return new MigrationException(MigrationException.Reason.ADDRESS_UNUSABLE,
                "migration to " + newLocal + " failed: " + error, error);
    }

    /** The first address of {@code nic} of the family asked for. */
    static java.util.Optional<java.net.InetAddress> addressOf(java.net.NetworkInterface nic, boolean ipv4) {
        return java.util.Collections.list(nic.getInetAddresses()).stream()
                .filter(address -> (address instanceof java.net.Inet4Address) == ipv4)
                .findFirst();
    }

    static NetworkPath path(Tuple tuple) {
        return new NetworkPath(tuple.local(), tuple.remote());
    }
}
