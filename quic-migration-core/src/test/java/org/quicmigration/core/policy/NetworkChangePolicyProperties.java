package org.quicmigration.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;

/**
 * Invariants of the network-change policy, checked after every input of random sequences: the usable networks
 * changing (any subset of four, in any order, with any of them or none as the kernel's choice), sends that fail and
 * work again on the path in use or another, probe timeouts that grow or start again, migrations the policy asked for
 * ending validated or not, migrations the application starts, and timers, under random configurations.
 *
 * <p>No edge cases are mixed in: the combinations of a dozen knobs' extremes cost more time than every other
 * property here, and the knobs' ranges are small enough for plain generation to reach their ends.
 */
class NetworkChangePolicyProperties {

    private static final long MS = 1_000_000L;
    private static final LocalNetwork WIFI = network("wlan0", "198.18.0.2");
    private static final LocalNetwork CELL = network("rmnet0", "198.18.1.2");
    private static final LocalNetwork ETH = network("eth0", "198.18.3.2");
    private static final LocalNetwork TUN = network("tun0", "198.18.4.2");
    private static final LocalNetwork[] NETWORKS = {WIFI, CELL, ETH, TUN};

    /**
     * At most {@link PolicyConfig#maxMigrationsPerCause()} migrations per cause, and the limit is reported once, when
     * the migration it would have started is not.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void neverStartsMoreMigrationsForACauseThanItsBound(@ForAll("configs") PolicyConfig config,
                                                        @ForAll("steps") List<Step> steps) {
        Map<MigrationCause, Integer> started = new EnumMap<>(MigrationCause.class);
        Set<MigrationCause> reported = new HashSet<>();
        run(config, steps, call -> {
            for (PolicyAction action : call.actions) {
                if (action instanceof PolicyAction.Migrate migrate) {
                    int count = started.merge(migrate.cause(), 1, Integer::sum);
                    assertThat(count).as("migrations for %s after %s", migrate.cause(), call)
                            .isLessThanOrEqualTo(config.maxMigrationsPerCause());
                } else if (action instanceof PolicyAction.LimitReached limit) {
                    assertThat(reported.add(limit.cause())).as("%s reported again by %s", limit, call).isTrue();
                    assertThat(limit.migrations()).as("%s (%s)", limit, call).isEqualTo(config.maxMigrationsPerCause());
                    assertThat(started.getOrDefault(limit.cause(), 0)).as("migrations for %s when %s", limit.cause(),
                            call).isEqualTo(config.maxMigrationsPerCause());
                }
            }
        });
    }

    /**
     * A connection is resumed only on the path it uses, with no migration running, once that path's network is
     * usable (or was never reported: it cannot be lost) and its sends have not failed; and not twice without a loss
     * in between.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void resumesOnlyThePathInUseOnceItsNetworkIsBack(@ForAll("configs") PolicyConfig config,
                                                     @ForAll("steps") List<Step> steps) {
        boolean[] resumedSinceLoss = {false};
        Set<InetAddress> reported = new HashSet<>();
        run(config, steps, call -> {
            reported.addAll(call.usable);
            InetAddress active = call.policy.active();
            boolean present = call.usable.contains(active) || !reported.contains(active);
            if (!present || call.failed.contains(active)) {
                resumedSinceLoss[0] = false;
            }
            for (PolicyAction action : call.actions) {
                if (action instanceof PolicyAction.Resume resume) {
                    assertThat(call.runningBefore).as("a migration running when %s", call).isFalse();
                    assertThat(resume.local()).as("%s after %s", resume, call).isEqualTo(active);
                    assertThat(present).as("%s usable or never reported (%s)", active, call).isTrue();
                    assertThat(call.failed).as("failed addresses (%s)", call).doesNotContain(active);
                    assertThat(resumedSinceLoss[0]).as("%s again without a loss (%s)", resume, call).isFalse();
                    resumedSinceLoss[0] = true;
                }
            }
        });
    }

    /**
     * Without a kept standby, a standby is asked for only to probe ahead of a degrading move: with that rule on, at
     * one probe timeout short of its threshold or later, while no migration runs, on a usable network other than the
     * one in use whose sends have not failed.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void asksForAStandbyOnlyToProbeAheadOfADegradingMove(@ForAll("configs") PolicyConfig config,
                                                         @ForAll("steps") List<Step> steps) {
        run(config, steps, call -> {
            for (PolicyAction action : call.actions) {
                if (action instanceof PolicyAction.KeepStandby keep) {
                    assertThat(config.onPathDegrading()).as("the degrading rule, for %s (%s)", keep, call).isTrue();
                    assertThat(config.degradingPtoCount()).as("its threshold (%s)", call).isGreaterThanOrEqualTo(2);
                    assertThat(call.ptos).as("probe timeouts at %s", call)
                            .isGreaterThanOrEqualTo(config.degradingPtoCount() - 1);
                    assertThat(call.runningBefore).as("a migration running when %s", call).isFalse();
                    assertThat(call.usable).as("usable addresses (%s)", call).contains(keep.local());
                    assertThat(keep.local()).as("%s (%s)", keep, call).isNotEqualTo(call.policy.active());
                    assertThat(call.failed).as("failed addresses (%s)", call).doesNotContain(keep.local());
                }
            }
        });
    }

    /** A disabled policy does nothing, whatever happens, and asks for no timer. */
    @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
    void aDisabledPolicyNeverActs(@ForAll("steps") List<Step> steps) {
        run(PolicyConfig.disabled(), steps, call -> {
            assertThat(call.actions).as("what %s does", call).isEmpty();
            assertThat(call.policy.nextTimerNanos()).as("the timer after %s", call).isEqualTo(Long.MAX_VALUE);
        });
    }

    /**
     * The timer the policy asks for is always in the future: the caller sets it again after every call, so a time
     * already reached, at which nothing happens, would wake it again at once, and again.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void neverAsksForATimerThatIsAlreadyDue(@ForAll("configs") PolicyConfig config, @ForAll("steps") List<Step> steps) {
        run(config, steps, call -> assertThat(call.policy.nextTimerNanos()).as("the timer after %s", call)
                .isGreaterThan(call.now));
    }

    /**
     * One migration at a time, to a network that is usable now, allowed by the interface patterns, not the one in
     * use and not one whose sends failed; moving off a lost network switches first, every other move validates
     * first.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void startsOneMigrationAtATimeToAUsableNetworkInTheModeOfItsCause(@ForAll("configs") PolicyConfig config,
                                                                      @ForAll("steps") List<Step> steps) {
        run(config, steps, call -> {
            List<PolicyAction.Migrate> migrations = new ArrayList<>();
            call.actions.forEach(action -> {
                if (action instanceof PolicyAction.Migrate migrate) {
                    migrations.add(migrate);
                }
            });
            if (migrations.isEmpty()) {
                return;
            }
            assertThat(migrations).as("migrations started by %s", call).hasSize(1);
            assertThat(call.runningBefore).as("a migration running when %s", call).isFalse();
            PolicyAction.Migrate migrate = migrations.get(0);
            assertThat(call.usable).as("usable addresses, one of which %s goes to (%s)", migrate, call)
                    .contains(migrate.local());
            assertThat(migrate.local()).as("the target of %s (%s)", migrate, call).isNotEqualTo(call.activeBefore);
            assertThat(call.failed).as("failed addresses (%s)", call).doesNotContain(migrate.local());
            if (!config.interfacePatterns().isEmpty()) {
                assertThat(config.rankOf(nameOf(migrate.local()))).as("the pattern rank of %s", migrate)
                        .isNotNegative();
            }
            boolean lost = migrate.cause() == MigrationCause.NETWORK_LOST
                    || migrate.cause() == MigrationCause.WRITE_ERROR;
            assertThat(migrate.mode()).as("the mode of %s", migrate)
                    .isEqualTo(lost ? MigrationMode.SWITCH_THEN_VALIDATE : MigrationMode.VALIDATE_THEN_SWITCH);
        });
    }

    /**
     * A failed return to the preferred network is retried after {@link PolicyConfig#returnFirstRetry()}, then after
     * twice that each time, up to {@link PolicyConfig#returnMaxRetry()}, and no more once
     * {@link PolicyConfig#maxTimeAway()} has passed since it could return (here: since the network, lost when the
     * connection left it, came back). The probes take any time, and the timer may fire late or be poked early.
     */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void failedReturnsAreRetriedAfterIntervalsThatDoubleUpToTheCap(@ForAll("backOffs") BackOff backOff) {
        PolicyConfig d = PolicyConfig.defaults();
        PolicyConfig config = new PolicyConfig(true, true, true, 4, true, Duration.ofMillis(backOff.firstMillis),
                Duration.ofMillis(backOff.maxMillis), 1_000, Duration.ofMillis(backOff.maxAwayMillis),
                d.retryAfterFailure(), List.of("wlan*", "rmnet*"));
        NetworkChangePolicy policy = new NetworkChangePolicy(config, WIFI.address(), false);
        policy.onNetworks(0, List.of(WIFI, CELL), null);
        assertThat(policy.onNetworks(0, List.of(CELL), null)).containsExactly(
                new PolicyAction.Migrate(CELL.address(), MigrationMode.SWITCH_THEN_VALIDATE,
                        MigrationCause.NETWORK_LOST));
        policy.onMigrationFinished(10 * MS, CELL.address(), true);
        long now = 10 * MS + backOff.backAfterMillis * MS;
        assertThat(policy.onNetworks(now, List.of(WIFI, CELL), null)).as("the preferred network is back")
                .containsExactly(new PolicyAction.Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                        MigrationCause.PREFERRED_NETWORK_BACK));
        // The network was gone when the connection left it: time away counts from when it could return.
        long awayFrom = now;
        long interval = backOff.firstMillis * MS;
        for (Round round : backOff.rounds) {
            now += round.probeMillis * MS;
            assertThat(policy.onMigrationFinished(now, CELL.address(), false)).as("the return failed").isEmpty();
            long due = now + interval;
            long early = now + (long) (interval * (round.pokeFraction / 100.0));
            if (early < due) {
                assertThat(policy.onTimer(early)).as("a timer %d ms after a failure, the back-off %d ms",
                        (early - now) / MS, interval / MS).isEmpty();
            }
            now = due + round.lateMillis * MS;
            List<PolicyAction> retry = policy.onTimer(now);
            if (now - awayFrom > backOff.maxAwayMillis * MS) {
                assertThat(retry).as("a return %d ms after the network came back, with at most %d ms away",
                        (now - awayFrom) / MS, backOff.maxAwayMillis).isEmpty();
                return;
            }
            assertThat(retry).as("the return after a back-off of %d ms", interval / MS).containsExactly(
                    new PolicyAction.Migrate(WIFI.address(), MigrationMode.VALIDATE_THEN_SWITCH,
                            MigrationCause.PREFERRED_NETWORK_BACK));
            interval = Math.min(2 * interval, backOff.maxMillis * MS);
        }
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    sealed interface Step {
    }

    /** The usable networks: those of {@code mask}, rotated by {@code rotate}; the kernel's choice or none. */
    record Networks(int mask, int rotate, int kernelChoice) implements Step {
    }

    /** A send on the path in use (or on network {@code which}) fails, or works again. */
    record Send(boolean onActive, int which, boolean works) implements Step {
    }

    /** The active path's probe timeouts: one more, or none since an acknowledgement. */
    record ProbeTimeouts(boolean reset) implements Step {
    }

    /** The migration running ends: validated, or not (back where it came from, or kept on the new path). */
    record Finish(boolean validated, boolean keptOnNewPath) implements Step {
    }

    /** The application moves to network {@code which} itself. */
    record ApplicationMigration(int which) implements Step {
    }

    record Advance(int millis) implements Step {
    }

    record DueTimer() implements Step {
    }

    /** A back-off scenario: when the preferred network comes back, and how each failed return goes. */
    record BackOff(long firstMillis, long maxMillis, long maxAwayMillis, long backAfterMillis, List<Round> rounds) {
    }

    /** How long a return's probe took, when the timer was poked early (percent of the wait), how late it fired. */
    record Round(long probeMillis, int pokeFraction, long lateMillis) {
    }

    /** The rules and their numbers, half of a configuration. */
    record Rules(boolean onLoss, boolean onDegrading, int ptoCount, boolean returning, long firstRetryMillis,
                 int doublings) {
    }

    @Provide
    Arbitrary<PolicyConfig> configs() {
        Arbitrary<List<String>> patterns = Arbitraries.frequencyOf(
                weight(2, Arbitraries.just(List.<String>of())),
                weight(1, Arbitraries.of("wlan*", "rmnet*", "eth*").list().uniqueElements().ofMinSize(1).ofMaxSize(3)));
        Arbitrary<Boolean> mostly = Arbitraries.frequency(weight(5, true), weight(1, false));
        Arbitrary<Rules> rules = Combinators.combine(mostly, mostly, Arbitraries.integers().between(1, 6), mostly,
                Arbitraries.longs().between(100, 2_000), Arbitraries.integers().between(0, 6)).as(Rules::new);
        return Combinators.combine(rules, Arbitraries.integers().between(0, 5),
                        Arbitraries.longs().between(1_000, 600_000), Arbitraries.longs().between(50, 1_000), patterns)
                .as((r, perCause, away, retry, names) -> new PolicyConfig(true, r.onLoss, r.onDegrading, r.ptoCount,
                        r.returning, Duration.ofMillis(r.firstRetryMillis),
                        Duration.ofMillis(r.firstRetryMillis << r.doublings), perCause, Duration.ofMillis(away),
                        Duration.ofMillis(retry), names));
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> networks = Combinators.combine(Arbitraries.integers().between(0, 15),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(-1, 3)).as(Networks::new);
        Arbitrary<Step> send = Combinators.combine(Arbitraries.frequency(weight(3, true), weight(1, false)),
                Arbitraries.integers().between(0, 3), Arbitraries.of(true, false)).as(Send::new);
        Arbitrary<Step> ptos = Arbitraries.frequency(weight(4, false), weight(1, true)).map(ProbeTimeouts::new);
        Arbitrary<Step> finish = Combinators.combine(Arbitraries.of(true, false),
                Arbitraries.frequency(weight(4, false), weight(1, true))).as(Finish::new);
        Arbitrary<Step> application = Arbitraries.integers().between(0, 3).map(ApplicationMigration::new);
        Arbitrary<Step> advance = Arbitraries.integers().between(1, 20_000).map(Advance::new);
        return Arbitraries.frequencyOf(weight(4, networks), weight(3, send), weight(4, ptos), weight(4, finish),
                        weight(1, application), weight(2, advance), weight(3, Arbitraries.just(new DueTimer())))
                .list().ofMinSize(8).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    @Provide
    Arbitrary<BackOff> backOffs() {
        Arbitrary<Round> round = Combinators.combine(Arbitraries.longs().between(1, 5_000),
                Arbitraries.integers().between(0, 99), Arbitraries.longs().between(0, 3_000)).as(Round::new);
        return Combinators.combine(Arbitraries.longs().between(100, 3_000), Arbitraries.integers().between(0, 7),
                        Arbitraries.longs().between(1_000, 1_200_000), Arbitraries.longs().between(0, 10_000),
                        round.list().ofMinSize(1).ofMaxSize(12))
                .as((first, doublings, away, back, rounds) ->
                        new BackOff(first, first << doublings, away, back, rounds));
    }

    /** {@code value} with {@code weight}, for {@link Arbitraries#frequency} and {@link Arbitraries#frequencyOf}. */
    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> weight(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    // ---- the harness -----------------------------------------------------------------------------------------

    /** One input and what came of it. */
    static final class Call {
        final NetworkChangePolicy policy;
        final Step step;
        final int index;
        final long now;
        /** The address in use when the policy decided (for a migration that ended: the one it ended on). */
        InetAddress activeBefore;
        final boolean runningBefore;
        final Set<InetAddress> usable;
        final Set<InetAddress> failed;
        /** The probe timeouts the harness has reported after the step. */
        int ptos;
        List<PolicyAction> actions = List.of();

        Call(Harness harness, Step step, int index) {
            this.policy = harness.policy;
            this.step = step;
            this.index = index;
            this.now = harness.now;
            this.activeBefore = harness.policy.active();
            this.runningBefore = harness.running != null;
            this.usable = harness.usable;
            this.failed = harness.failed;
        }

        @Override
        public String toString() {
            return "step " + index + " " + step + " at " + now / MS + " ms, on " + activeBefore + ", usable " + usable
                    + ", failed " + failed + " -> " + actions;
        }
    }

    /** The policy and the world around it. */
    static final class Harness {
        final NetworkChangePolicy policy;
        Set<InetAddress> usable = Set.of();
        Set<InetAddress> failed = Set.of();
        InetAddress kernelChoice;
        /** The migration running: its target, or null. */
        InetAddress running;
        int ptos;
        long now;

        Harness(PolicyConfig config) {
            policy = new NetworkChangePolicy(config, WIFI.address(), false);
        }

        Call apply(int index, Step step) {
            // Advance the clock first, so the call sees the time it happens at.
            if (step instanceof Advance a) {
                now += a.millis * MS;
            } else if (step instanceof DueTimer) {
                long next = policy.nextTimerNanos();
                if (next != Long.MAX_VALUE) {
                    now = Math.max(now, next);
                }
            } else {
                now += MS;
            }
            Call call = new Call(this, step, index);
            if (step instanceof Networks n) {
                List<LocalNetwork> list = new ArrayList<>();
                for (int i = 0; i < NETWORKS.length; i++) {
                    LocalNetwork network = NETWORKS[(i + n.rotate) % NETWORKS.length];
                    if ((n.mask & (1 << ((i + n.rotate) % NETWORKS.length))) != 0) {
                        list.add(network);
                    }
                }
                Set<InetAddress> addresses = new HashSet<>();
                list.forEach(network -> addresses.add(network.address()));
                InetAddress kernel = n.kernelChoice < 0 ? null : NETWORKS[n.kernelChoice].address();
                Set<InetAddress> stillFailed = new HashSet<>(failed);
                stillFailed.removeIf(address -> !usable.contains(address) && addresses.contains(address));
                if (kernel != null && !kernel.equals(kernelChoice)) {
                    stillFailed.remove(kernel); // the kernel routes to the server from it now
                }
                kernelChoice = kernel;
                usable = Set.copyOf(addresses);
                failed = Set.copyOf(stillFailed);
                call = new Call(this, step, index);
                call.actions = policy.onNetworks(now, list, kernel);
            } else if (step instanceof Send s) {
                InetAddress address = s.onActive ? policy.active() : NETWORKS[s.which].address();
                Set<InetAddress> failing = new HashSet<>(failed);
                if (s.works) {
                    failing.remove(address);
                } else {
                    failing.add(address);
                }
                failed = Set.copyOf(failing);
                call = new Call(this, step, index);
                call.actions = s.works ? policy.onPathWorks(now, address) : policy.onPathFailed(now, address);
            } else if (step instanceof ProbeTimeouts p) {
                ptos = p.reset ? 0 : ptos + 1;
                call.actions = policy.onProbeTimeouts(now, ptos);
            } else if (step instanceof Finish f) {
                if (running == null) {
                    return null;
                }
                InetAddress activeNow = f.validated || f.keptOnNewPath ? running : policy.active();
                running = null;
                ptos = 0;
                call = new Call(this, step, index);
                call.activeBefore = activeNow;
                call.actions = policy.onMigrationFinished(now, activeNow, f.validated);
            } else if (step instanceof ApplicationMigration a) {
                if (running != null || NETWORKS[a.which].address().equals(policy.active())) {
                    return null;
                }
                policy.onMigrationStarted(now, MigrationCause.APPLICATION);
                running = NETWORKS[a.which].address();
            } else {
                call.actions = policy.onTimer(now);
            }
            for (PolicyAction action : call.actions) {
                if (action instanceof PolicyAction.Migrate migrate) {
                    running = migrate.local();
                }
            }
            call.ptos = ptos;
            return call;
        }
    }

    private static void run(PolicyConfig config, List<Step> steps, Consumer<Call> invariant) {
        Harness harness = new Harness(config);
        invariant.accept(harness.apply(-1, new Networks(0b0011, 0, 0)));
        for (int i = 0; i < steps.size(); i++) {
            Call call = harness.apply(i, steps.get(i));
            if (call != null) {
                invariant.accept(call);
            }
        }
    }

    static String nameOf(InetAddress address) {
        for (LocalNetwork network : NETWORKS) {
            if (network.address().equals(address)) {
                return network.interfaceName();
            }
        }
        return "?";
    }

    private static LocalNetwork network(String name, String address) {
        try {
            return new LocalNetwork(name, InetAddress.getByName(address));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
