package org.quicmigration.core.policy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;

/**
 * The client's network-change policy, sans-IO: decides when a connection moves by itself, where to, and how. The
 * caller feeds in what it observes (the usable networks, a failed or working path, probe timeouts on the active
 * path, migrations that started and ended, timer expiries), each with the current time, and performs the
 * {@link PolicyAction}s it gets back.
 *
 * <ul>
 * <li><b>Network lost</b>: the active path's address disappeared, or sending on it failed. The connection moves at
 *     once to the most preferred other usable network, switching first (nothing waits on a dead network); with no
 *     other network it waits for one.</li>
 * <li><b>Path degrading</b>: {@link PolicyConfig#degradingPtoCount()} probe timeouts without an
 *     acknowledgement. Another network is probed and used only if it answers (validate first), so a path that is
 *     just slow is not left for a worse one.</li>
 * <li><b>Preferred network back</b>: a network ranked above the active one is usable (it appeared, or the kernel's
 *     route to the server moved to it). It is probed before use; a
 *     failed return is retried after {@link PolicyConfig#returnFirstRetry()}, doubling up to
 *     {@link PolicyConfig#returnMaxRetry()}, for at most {@link PolicyConfig#maxTimeAway()}.</li>
 * <li><b>Network back</b>: the lost network of a connection that could not leave it returns. The connection resumes
 *     on it at once ({@link PolicyAction.Resume}) instead of waiting for its next, backed-off probe timeout.</li>
 * </ul>
 * Without a kept standby, a degrading path's way out is probed one probe timeout before the move is due (a
 * short-lived standby), so that the move finds it validated.
 * With {@link PolicyConfig#standbyProbeInterval()} set, the policy also keeps a standby path on the network a move
 * would go to now (the most preferred other usable one), so that the move, when it comes, needs no validation; it
 * drops the standby when that network changes, and asks for none while a move is due or running.
 * At most {@link PolicyConfig#maxMigrationsPerCause()} migrations per cause; one migration at a time. A network the
 * application moved to itself stays until the set of networks changes.
 *
 * <p>Not thread-safe: the caller serialises all calls.
 */
public final class NetworkChangePolicy {

    private final PolicyConfig config;
    /** The usable networks the policy may use, most preferred first. */
    private Ranking ranked = Ranking.EMPTY;
    /** Every address the monitor reported now, and ever: an address that was never reported cannot be lost. */
    private Set<InetAddress> present = Set.of();
    private final Set<InetAddress> seen = new HashSet<>();
    /** Addresses whose sends failed, until a send works again or the address reappears. */
    private final Set<InetAddress> failed = new HashSet<>();
    private final Map<MigrationCause, Integer> started = new EnumMap<>(MigrationCause.class);
    private final Set<MigrationCause> limitReported = EnumSet.noneOf(MigrationCause.class);
    private InetAddress active;
    /** The source the kernel picked toward the server at the last report, or null. */
    private InetAddress kernelChoice;
    private MigrationCause migrating;
    private boolean applicationChose;
    private boolean waiting;
    /** Whether the active path was lost when the policy last looked (see {@link PolicyAction.Resume}). */
    private boolean activeLost;
    private int consecutivePtos;
    /** The probe timeouts counted before the last migration ended; only those after it count toward degrading. */
    private int ptoBaseline;
    private boolean degradingHandled;
    private long lastNanos;
    private long retryAtNanos = Long.MIN_VALUE;
    private final ReturnSchedule returns;
    /** The standby the policy keeps, or probes a degrading path's way out with. */
    private final StandbySteering standby = new StandbySteering();
    /** The reprobe interval of the standby that probes ahead of a degrading move: it lives a few probe timeouts. */
    static final java.time.Duration AHEAD_PROBE_INTERVAL = java.time.Duration.ofSeconds(20);

    /**
     * @param config            the knobs
     * @param active            the local address the connection uses now
     * @param applicationChose  true if the application picked that address itself (it is then not left for a
     *                          preferred network until the networks change)
     */
    public NetworkChangePolicy(PolicyConfig config, InetAddress active, boolean applicationChose) {
        this.config = config;
        this.active = active;
        this.applicationChose = applicationChose;
        this.returns = new ReturnSchedule(config);
    }

    /**
     * The networks that can carry a connection to {@code server}: those of its address family and of its scope (a
     * loopback server from loopback addresses only, any other from non-loopback addresses only).
     */
    public static List<LocalNetwork> usableToward(List<LocalNetwork> networks, InetAddress server) {
        return Ranking.usableToward(networks, server);
    }

    /** True while the active path is gone and no other network is usable. */
    public boolean waitingForNetwork() {
        return waiting;
    }

    /** The local address the policy believes the connection uses. */
    public InetAddress active() {
        return active;
    }

    /**
     * The usable networks, or the routes toward the server, changed (or are reported for the first time).
     *
     * @param usable       every usable local network, in the monitor's order
     * @param kernelChoice the source address the kernel would pick toward the server, or null if unknown
     */
    public List<PolicyAction> onNetworks(long nowNanos, List<LocalNetwork> usable, InetAddress kernelChoice) {
        lastNanos = nowNanos;
        // What outranked the active network before; a ranking without it (a lost network, or a report that left it
        // out) says nothing, and then every preferred network counts as new.
        LocalNetwork targetBefore = ranked.holds(active) ? best(this::untried) : null;
        Set<InetAddress> nowPresent = new HashSet<>();
        usable.forEach(network -> nowPresent.add(network.address()));
        boolean changed = !nowPresent.equals(present);
        for (InetAddress address : nowPresent) {
            if (!present.contains(address)) {
                failed.remove(address); // it came back: worth trying again
            }
        }
        if (kernelChoice != null && !kernelChoice.equals(this.kernelChoice)) {
            // The kernel's route to the server moved to it: a send that failed for want of that route may work now
            // (an address comes before its routes, so a network can appear, fail, and only then become routable).
            failed.remove(kernelChoice);
        }
        this.kernelChoice = kernelChoice;
        present = nowPresent;
        seen.addAll(nowPresent);
        ranked = Ranking.of(usable, kernelChoice, config);
        if (changed) {
            applicationChose = false;
        }
        LocalNetwork target = best(this::untried);
        if (target != null && !target.equals(targetBefore) && outranksActive(target)) {
            // A preferred network appeared, or became preferred (the kernel's route moved to it), or usable again:
            // probe it at once; failures back off from the first retry.
            returns.dueNow(nowNanos);
        }
        return evaluate(nowNanos);
    }

    /** True unless sending on {@code network} failed and nothing since says it might work. */
    private boolean untried(LocalNetwork network) {
        return !failed.contains(network.address());
    }

    /** Sending (or receiving) on the path of {@code local} failed. */
    public List<PolicyAction> onPathFailed(long nowNanos, InetAddress local) {
        lastNanos = nowNanos;
        failed.add(local);
        return evaluate(nowNanos);
    }

    /** A send on the path of {@code local} worked again. */
    public List<PolicyAction> onPathWorks(long nowNanos, InetAddress local) {
        lastNanos = nowNanos;
        failed.remove(local);
        return evaluate(nowNanos);
    }

    /** The active path has had {@code count} probe timeouts without an acknowledgement (0 after one). */
    public List<PolicyAction> onProbeTimeouts(long nowNanos, int count) {
        lastNanos = nowNanos;
        consecutivePtos = count;
        ptoBaseline = Math.min(ptoBaseline, count);
        if (count == 0) {
            degradingHandled = false;
        }
        return evaluate(nowNanos);
    }

    /** A migration the policy did not ask for started (by the application, or to the server's preferred address). */
    public void onMigrationStarted(long nowNanos, MigrationCause cause) {
        lastNanos = nowNanos;
        migrating = cause;
        if (cause == MigrationCause.APPLICATION) {
            applicationChose = true;
        }
    }

    /**
     * The migration in progress ended.
     *
     * @param activeNow the local address the connection uses now
     * @param validated true if the connection moved and its new path answered
     */
    public List<PolicyAction> onMigrationFinished(long nowNanos, InetAddress activeNow, boolean validated) {
        lastNanos = nowNanos;
        MigrationCause cause = migrating;
        migrating = null;
        InetAddress before = active;
        active = activeNow;
        if (!activeNow.equals(before)) {
            activeLost = false; // a path the connection just moved to was never seen lost
        }
        ptoBaseline = consecutivePtos;
        degradingHandled = false;
        boolean ours = cause != null && cause != MigrationCause.APPLICATION && cause != MigrationCause.SERVER_PREFERRED_ADDRESS;
        if (!validated && ours) {
            retryAtNanos = nowNanos + config.retryAfterFailure().toNanos();
        }
        if (cause == MigrationCause.PREFERRED_NETWORK_BACK) {
            if (validated) {
                returns.succeeded();
            } else {
                returns.failed(nowNanos);
            }
        } else if (validated && ours && !activeNow.equals(before) && !ranked.isEmpty() && outranksActive(ranked.top())) {
            returns.afterLeaving(nowNanos); // left for a network ranked lower
        }
        return evaluate(nowNanos);
    }

    /**
     * The standby asked for with {@link PolicyAction.KeepStandby} exists now on {@code local}; or, with null, the
     * connection has no standby any more (it was moved to, removed, or lost its connection ID).
     */
    public List<PolicyAction> onStandby(long nowNanos, InetAddress local) {
        lastNanos = nowNanos;
        standby.reported(local);
        return evaluate(nowNanos);
    }

    /** The standby asked for could not start (no spare connection ID yet, a migration running); asked again later. */
    public List<PolicyAction> onStandbyRefused(long nowNanos) {
        lastNanos = nowNanos;
        standby.refused(nowNanos);
        return evaluate(nowNanos);
    }

    /** Time passed. */
    public List<PolicyAction> onTimer(long nowNanos) {
        lastNanos = nowNanos;
        return evaluate(nowNanos);
    }

    /**
     * True if probe timeouts on the active path could lead to a decision now: the rule is on and another usable
     * network exists. The caller needs to report them only then.
     */
    public boolean wantsProbeTimeouts() {
        if (!config.enabled() || !config.onPathDegrading()) {
            return false;
        }
        return ranked.hasOtherThan(active);
    }

    /**
     * When {@link #onTimer} next may have work, or Long.MAX_VALUE; always after the last input's time. A return due by
     * then that did not start waits for an input that lets it (the end of a migration, a change of networks), which
     * evaluates it anyway: a timer at a time already reached would fire at once, find nothing to do, and be set again.
     */
    public long nextTimerNanos() {
        long next = returns.nextAfter(lastNanos);
        if (retryAtNanos > lastNanos && (failed.contains(active) || activeGone() || degrading())) {
            next = Math.min(next, retryAtNanos);
        }
        if (config.standbyProbeInterval() != null && !standby.exists() && standby.retryAtNanos() > lastNanos) {
            next = Math.min(next, standby.retryAtNanos());
        }
        return next;
    }

    private List<PolicyAction> evaluate(long nowNanos) {
        List<PolicyAction> actions = decideMove(nowNanos);
        resumeIfBack(actions);
        if (migrating == null && config.enabled()) {
            if (config.standbyProbeInterval() != null) {
                keepStandby(nowNanos, actions);
            } else {
                probeAheadOfDegrading(nowNanos, actions);
            }
        }
        return actions;
    }

    /**
     * The active path's network came back while the connection stayed on it (nothing better to move to, or a move
     * that could not leave): it resumes there at once. While a migration runs, the migration decides.
     */
    private void resumeIfBack(List<PolicyAction> actions) {
        if (migrating != null || !config.enabled()) {
            return;
        }
        boolean lost = activeGone() || failed.contains(active);
        if (activeLost && !lost) {
            actions.add(new PolicyAction.Resume(active));
        }
        activeLost = lost;
    }

    /**
     * Without a kept standby, a degrading path's way out is probed one probe timeout before the move is due: a
     * standby on the network the move would go to, asked for at one probe timeout short of
     * {@link PolicyConfig#degradingPtoCount()}. Its answer is in when the move comes, which then switches at once
     * instead of probing first (one round trip sooner); it is given up when the path recovers. Once an episode: the
     * move, or the path's recovery, ends it.
     */
    private void probeAheadOfDegrading(long nowNanos, List<PolicyAction> actions) {
        int threshold = config.degradingPtoCount();
        boolean ahead = config.onPathDegrading() && threshold >= 2 && !degradingHandled
                && consecutivePtos - ptoBaseline >= threshold - 1 && !activeGone() && !failed.contains(active);
        standby.steer(ahead ? addressOf(bestOther()) : null, AHEAD_PROBE_INTERVAL, true, true, nowNanos, actions);
    }

    /**
     * The standby goes on the network a move would go to now; none while the active path is lost (the move comes
     * first) or no other network is usable.
     */
    private void keepStandby(long nowNanos, List<PolicyAction> actions) {
        boolean lost = activeGone() || failed.contains(active);
        standby.steer(lost ? null : addressOf(bestOther()), config.standbyProbeInterval(), !lost,
                nowNanos >= standby.retryAtNanos(), nowNanos, actions);
    }

    /** The most preferred usable network other than the active one whose sends have not failed, or null. */
    private LocalNetwork bestOther() {
        return best(network -> !network.address().equals(active) && !failed.contains(network.address()));
    }

    private static InetAddress addressOf(LocalNetwork network) {
        return network == null ? null : network.address();
    }

    private List<PolicyAction> decideMove(long nowNanos) {
        List<PolicyAction> actions = new ArrayList<>(1);
        if (!config.enabled() || migrating != null) {
            return actions;
        }
        boolean gone = activeGone();
        if (config.onNetworkLoss() && (gone || failed.contains(active))) {
            LocalNetwork to = bestOther();
            if (to == null) {
                if (!waiting) {
                    waiting = true;
                    actions.add(new PolicyAction.WaitForNetwork(active));
                }
            } else if (nowNanos >= retryAtNanos) {
                start(to, MigrationMode.SWITCH_THEN_VALIDATE, gone ? MigrationCause.NETWORK_LOST : MigrationCause.WRITE_ERROR,
                        actions);
            }
            return actions;
        }
        waiting = false;
        if (config.onPathDegrading() && degrading() && nowNanos >= retryAtNanos) {
            LocalNetwork to = bestOther();
            if (to != null) {
                degradingHandled = true;
                start(to, MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PATH_DEGRADING, actions);
                return actions;
            }
        }
        if (config.returnToPreferred() && returns.due(nowNanos)) {
            LocalNetwork top = best(this::untried);
            returns.cancel(); // planned again when the attempt ends
            if (top != null && outranksActive(top) && !applicationChose && !returns.expired(nowNanos)) {
                start(top, MigrationMode.VALIDATE_THEN_SWITCH, MigrationCause.PREFERRED_NETWORK_BACK, actions);
            }
        }
        return actions;
    }

    private void start(LocalNetwork to, MigrationMode mode, MigrationCause cause, List<PolicyAction> actions) {
        int count = started.getOrDefault(cause, 0);
        if (count >= config.maxMigrationsPerCause()) {
            if (limitReported.add(cause)) {
                actions.add(new PolicyAction.LimitReached(cause, count));
            }
            return;
        }
        started.put(cause, count + 1);
        migrating = cause;
        actions.add(new PolicyAction.Migrate(to.address(), mode, cause));
    }

    private boolean activeGone() {
        return seen.contains(active) && !present.contains(active);
    }

    private boolean degrading() {
        return consecutivePtos - ptoBaseline >= config.degradingPtoCount() && !degradingHandled;
    }

    /** True if {@code network} ranks above the active address, which must itself be one the policy may use. */
    private boolean outranksActive(LocalNetwork network) {
        return ranked.outranks(network, active);
    }

    private LocalNetwork best(Predicate<LocalNetwork> allowed) {
        return ranked.best(allowed);
    }
}
