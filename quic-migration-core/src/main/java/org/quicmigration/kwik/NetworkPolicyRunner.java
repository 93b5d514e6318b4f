package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.impl.QuicClientConnectionImpl;

import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;
import org.quicmigration.core.policy.LocalNetwork;
import org.quicmigration.core.policy.NetworkChangePolicy;
import org.quicmigration.core.policy.PolicyAction;
import org.quicmigration.core.policy.PolicyConfig;

/**
 * Internal: runs one client connection's {@link NetworkChangePolicy}. It feeds the policy the network feed's
 * snapshots, the active path's failures and its probe timeouts without progress, and hands the policy's decisions
 * to its {@link Host}. Every call but {@link #networksMayHaveChanged} runs on the binding thread, which owns the
 * policy.
 */
final class NetworkPolicyRunner {

    private static final System.Logger LOG = System.getLogger(NetworkPolicyRunner.class.getName());
    private static final ScheduledExecutorService THREAD = BindingThreads.SCHEDULER;
    /** How often the active path's silence is checked for the "path degrading" rule. */
    private static final long PTO_WATCH_MILLIS = 50;

    /** What the runner needs of its connection's migration driver. */
    interface Host {
        boolean stopped();

        /** The driver's clock, in nanoseconds. */
        long now();

        InetSocketAddress activeRemote();

        /** Starts the migration the policy decided on. */
        void migrate(InetSocketAddress local, MigrationMode mode, MigrationCause cause);

        /** The active path is gone and no other network is usable. */
        void noUsableNetwork();

        /** The active path's network, on {@code local}, is back after an outage: send on it now. */
        void resume(java.net.InetAddress local);

        /** Keeps a standby on {@code local}; reports back with {@link #standbyChanged} or {@link #standbyRefused}. */
        void keepStandby(InetSocketAddress local, java.time.Duration probeInterval);

        /** Gives up the standby. */
        void dropStandby();
    }

    private final QuicClientConnectionImpl connection;
    private final ClientPathSocket socket;
    private final InetSocketAddress server;
    private final NetworkFeed networks;
    private final PolicyConfig config;
    private final NetworkChangePolicy policy;
    private final Host host;
    private Runnable unsubscribe = () -> { };
    private ScheduledFuture<?> policyTimer;
    private ScheduledFuture<?> probeTimeoutWatch;
    private int lastPtoCount;
    /** When the watch first saw an ack-eliciting packet in flight (0: none now). */
    private long inFlightSinceNanos;
    private volatile boolean waitingForNetwork;
    private volatile boolean activePathFailed;

    NetworkPolicyRunner(QuicClientConnectionImpl connection, ClientPathSocket socket, InetSocketAddress server,
                        NetworkFeed networks, PolicyConfig config, boolean localAddressChosen, Host host) {
        this.connection = connection;
        this.socket = socket;
        this.server = server;
        this.networks = networks;
        this.config = config;
        this.policy = new NetworkChangePolicy(config, socket.activeLocal().getAddress(), localAddressChosen);
        this.host = host;
    }

    /** Subscribes to the network feed, if the policy is on. */
    void start() {
        if (!config.enabled()) {
            return;
        }
        THREAD.execute(() -> {
            if (host.stopped()) {
                return;
            }
            unsubscribe = networks.subscribe(this::networksMayHaveChanged);
            networksMayHaveChanged();
        });
    }

    /**
     * True while the connection has no network to use: its active path failed and no other is usable. A connection
     * that idles out in that state ended because its network went away. Any thread.
     */
    boolean noUsableNetwork() {
        return waitingForNetwork || activePathFailed;
    }

    /** The socket of the active path, on {@code local}, failed. */
    void activePathFailed(InetSocketAddress local) {
        activePathFailed = true;
        apply(policy.onPathFailed(host.now(), local.getAddress()));
    }

    /** The socket of the active path, on {@code local}, works again. */
    void activePathWorks(InetSocketAddress local) {
        activePathFailed = false;
        apply(policy.onPathWorks(host.now(), local.getAddress()));
    }

    /** A migration the policy did not decide on started: the application's, or to the server's preferred address. */
    void migrationStarted(MigrationCause cause) {
        policy.onMigrationStarted(host.now(), cause);
    }

    /** The standby the policy asked for exists now on {@code local}; null: the connection has none any more. */
    void standbyChanged(java.net.InetAddress local) {
        apply(policy.onStandby(host.now(), local));
    }

    /** The standby the policy asked for could not start. */
    void standbyRefused() {
        apply(policy.onStandbyRefused(host.now()));
    }

    /** The migration in progress ended; the connection is now on {@code activeLocal}. */
    void migrationEnded(InetSocketAddress activeLocal, boolean validated) {
        apply(policy.onMigrationFinished(host.now(), activeLocal.getAddress(), validated));
    }

    void stop() {
        unsubscribe.run();
        for (ScheduledFuture<?> future : new ScheduledFuture<?>[]{policyTimer, probeTimeoutWatch}) {
            if (future != null) {
                future.cancel(false);
            }
        }
    }

    /** Any thread: reads the feed there (it may do a system call) and hands the snapshot to the policy. */
    private void networksMayHaveChanged() {
        List<LocalNetwork> usable = NetworkChangePolicy.usableToward(networks.networks(), server.getAddress());
        java.net.InetAddress kernelChoice = networks.defaultSource(host.activeRemote());
        THREAD.execute(() -> {
            if (!host.stopped()) {
                apply(policy.onNetworks(host.now(), usable, kernelChoice));
            }
        });
    }

    /**
     * Reports the active path's probe timeouts without progress to the policy, counted as Chromium's path-degrading
     * detection counts them: how many PTOs (the path's PTO, without Kwik's exponential backoff) have passed since
     * the last datagram arrived while an ack-eliciting packet is in flight. Kwik's own count doubles the wait before
     * each next probe, so it reaches four only after 1 + 2 + 4 + 8 PTOs; this one after four.
     */
    private void watchProbeTimeouts() {
        if (host.stopped()) {
            return;
        }
        long nowNanos = System.nanoTime();
        int count = 0;
        if (KwikRecovery.ackElicitingInFlight(connection)) {
            if (inFlightSinceNanos == 0) {
                inFlightSinceNanos = nowNanos;
            }
            long silence = nowNanos - Math.max(socket.lastReceivedOnActiveNanos(), inFlightSinceNanos);
            long pto = Math.max(1, TimeUnit.MILLISECONDS.toNanos(KwikRecovery.ptoMillis(connection)));
            count = (int) Math.min(Integer.MAX_VALUE, silence / pto);
        } else {
            inFlightSinceNanos = 0;
        }
        if (count != lastPtoCount) {
            lastPtoCount = count;
            apply(policy.onProbeTimeouts(host.now(), count));
        }
    }

    /** Performs the policy's decisions. */
    private void apply(List<PolicyAction> actions) {
        for (PolicyAction action : actions) {
            if (action instanceof PolicyAction.Migrate migrate) {
                host.migrate(new InetSocketAddress(migrate.local(), 0), migrate.mode(), migrate.cause());
                // Logged once the move is under way: a console that blocks (a full pipe) must not delay it.
                LOG.log(System.Logger.Level.INFO, () -> "moving to " + migrate.local() + " (" + migrate.cause() + ", "
                        + migrate.mode() + ")");
            } else if (action instanceof PolicyAction.KeepStandby keep) {
                LOG.log(System.Logger.Level.DEBUG, () -> "keeping a standby on " + keep.local());
                host.keepStandby(new InetSocketAddress(keep.local(), 0), keep.probeInterval());
            } else if (action instanceof PolicyAction.DropStandby drop) {
                LOG.log(System.Logger.Level.DEBUG, () -> "dropping the standby on " + drop.local());
                host.dropStandby();
            } else if (action instanceof PolicyAction.Resume resume) {
                activePathFailed = false;
                host.resume(resume.local());
                LOG.log(System.Logger.Level.INFO, () -> "network of " + resume.local() + " back; resuming on it");
            } else if (action instanceof PolicyAction.WaitForNetwork wait) {
                LOG.log(System.Logger.Level.INFO, () -> "network of " + wait.lost() + " lost and no other usable; waiting");
                host.noUsableNetwork();
            } else if (action instanceof PolicyAction.LimitReached limit) {
                LOG.log(System.Logger.Level.WARNING, () -> "network-change policy: " + limit.migrations()
                        + " migrations for " + limit.cause() + ", the most allowed; no more for that cause");
            }
        }
        waitingForNetwork = policy.waitingForNetwork();
        schedulePolicyTimer();
        watchProbeTimeoutsWhileWanted();
    }

    /** Checks the path's silence only while the policy has another network to go to: it costs a read a tick. */
    private void watchProbeTimeoutsWhileWanted() {
        boolean wanted = policy.wantsProbeTimeouts() && !host.stopped();
        if (wanted && probeTimeoutWatch == null) {
            lastPtoCount = 0;
            inFlightSinceNanos = 0;
            probeTimeoutWatch = THREAD.scheduleWithFixedDelay(this::watchProbeTimeouts, PTO_WATCH_MILLIS,
                    PTO_WATCH_MILLIS, TimeUnit.MILLISECONDS);
        } else if (!wanted && probeTimeoutWatch != null) {
            probeTimeoutWatch.cancel(false);
            probeTimeoutWatch = null;
        }
    }

    private void schedulePolicyTimer() {
        if (policyTimer != null) {
            policyTimer.cancel(false);
            policyTimer = null;
        }
        long next = policy.nextTimerNanos();
        if (next != Long.MAX_VALUE && !host.stopped()) {
            policyTimer = THREAD.schedule(() -> {
                policyTimer = null;
                if (!host.stopped()) {
                    apply(policy.onTimer(host.now()));
                }
            }, Math.max(0, next - host.now()), TimeUnit.NANOSECONDS);
        }
    }
}
