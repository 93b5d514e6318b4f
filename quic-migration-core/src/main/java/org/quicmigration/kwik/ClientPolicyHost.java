package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.ClientMigrator;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;

/**
 * Internal: what a client connection's network-change policy runner ({@link NetworkPolicyRunner}) asks of its
 * {@link ClientMigrationDriver}: migrations, standbys, resuming after an outage, and the reports that go with them.
 * Called on the binding thread ({@link BindingThreads}).
 */
final class ClientPolicyHost implements NetworkPolicyRunner.Host {

    private static final System.Logger LOG = System.getLogger(ClientMigrationDriver.class.getName());
    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;

    private final ClientMigrationDriver driver;
    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final ClientMigrator migrator;
    private final ClientPathActions paths;
    private final ClientStandby standby;
    private final ClientMigrationRequests requests;
    private final List<MigrationObserver> observers;

    ClientPolicyHost(ClientMigrationDriver driver, QuicClientConnectionImpl connection, ClientPathSocket socket,
                     ClientMigrator migrator, ClientPathActions paths, ClientStandby standby,
                     ClientMigrationRequests requests, List<MigrationObserver> observers) {
        this.driver = driver;
        this.connection = connection;
        this.socket = socket;
        this.migrator = migrator;
        this.paths = paths;
        this.standby = standby;
        this.requests = requests;
        this.observers = observers;
    }

    @Override
    public boolean stopped() {
        return driver.stopped();
    }

    @Override
    public long now() {
        return driver.now();
    }

    @Override
    public InetSocketAddress activeRemote() {
        return paths.activeRemote();
    }

    @Override
    public void migrate(InetSocketAddress local, MigrationMode mode, MigrationCause cause) {
        requests.start(local, paths.activeRemote(), mode, cause, new CompletableFuture<>());
    }

    @Override
    public void noUsableNetwork() {
        Tuple active = new Tuple(socket.activeLocal(), paths.activeRemote());
        observers.forEach(o -> o.noUsableNetwork(active));
    }

    @Override
    public void resume(java.net.InetAddress local) {
        if (socket.activeLocal().getAddress().equals(local) && migrator.currentCause() == null) {
            KwikCongestion.resumeAfterOutage(connection, paths.declaredLosses()); // W36
            Tuple active = new Tuple(socket.activeLocal(), paths.activeRemote());
            observers.forEach(o -> o.pathResumed(active));
        }
    }

    @Override
    public void keepStandby(InetSocketAddress local, Duration probeInterval) {
        standby.add(local, probeInterval, true).whenComplete((bound, error) -> THREAD.execute(() -> {
            if (driver.stopped()) {
                return;
            }
            if (error != null) {
                LOG.log(System.Logger.Level.DEBUG, () -> "no standby on " + local + ": " + error.getMessage());
                driver.policy().standbyRefused();
            } else {
                driver.policy().standbyChanged(bound.getAddress());
            }
        }));
    }

    @Override
    public void dropStandby() {
        driver.perform(migrator.removeStandby());
    }
}
