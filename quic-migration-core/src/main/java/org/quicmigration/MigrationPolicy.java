package org.quicmigration;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import org.quicmigration.core.policy.PolicyConfig;

/**
 * When a client connection moves by itself: the network-change policy, set with
 * {@link MigratingClient.Builder#migrationPolicy}. Immutable. The defaults ({@link #defaults()}) heal a lost network
 * without application code:
 * <ul>
 * <li><b>Network lost</b> (on): when the active path's local address disappears, its interface goes down, or a
 *     send on it fails (no route, address gone, refused), the connection moves at once to the most preferred other
 *     usable network, switching first ({@link MigrationStrategy#SWITCH_THEN_VALIDATE}): nothing waits on a dead
 *     network. With no other network the connection waits for one until its idle timeout; it then ends with
 *     {@link ConnectionClosedException.Reason#NO_USABLE_NETWORK}.</li>
 * <li><b>Path degrading</b> (on, when nothing arrives for 4 probe timeouts of the path, without backoff, while a packet is in flight): another network is
 *     probed and used only if it answers ({@link MigrationStrategy#VALIDATE_THEN_SWITCH}), so a path that is merely
 *     slow is never left for a dead one. The probe starts one probe timeout early (a short-lived standby path,
 *     reported as {@link MigrationEvent.StandbyPathChanged}), so that its answer is in when the move is due and the
 *     move switches at once; a path that recovers meanwhile gives it up. On by default because a silent black hole
 *     (a Wi-Fi that still has an address but delivers nothing) is otherwise never left before the idle timeout, and
 *     the probe costs nothing when it fails.</li>
 * <li><b>Network back</b> (with network loss): when the lost network of a connection that could not leave it
 *     returns, the connection resumes on it at once ({@link MigrationEvent.PathResumed}), not at its next probe
 *     timeout, which the outage doubled again and again.</li>
 * <li><b>Preferred network back</b> (on): when a network ranked above the active one is usable again (Wi-Fi came
 *     back), it is probed and used if it answers. A failed return is retried after 1 s, doubling up to 128 s, for
 *     at most 10 minutes after the connection left that network.</li>
 * <li><b>Standby</b> (off): with {@link Builder#keepStandby}, the connection keeps a standby path
 *     ({@link MigratingConnection#addStandbyPath}) on the network a move would go to, so that the move after a lost
 *     network needs no validation: about 430 kB an hour on that network at the default probe interval, and while it
 *     exists the application's {@code migrate()} to any other address first gives it up.</li>
 * <li><b>Bounds</b>: at most 5 migrations per cause in a connection's life; one at a time. A network the
 *     application chose itself (a {@code localAddress} on the builder, or {@code migrate()}) is kept until the set
 *     of networks changes.</li>
 * <li><b>Preference</b>: the operating system's route choice toward the server first, then the other interfaces;
 *     or the order of {@link Builder#preferInterfaces} patterns, which also limit the policy to those interfaces.</li>
 * </ul>
 * Every move the policy makes is reported as {@link MigrationEvent.MigrationStarted} with its
 * {@link MigrationCause}. Loopback addresses are never reported by {@link NetworkMonitor#system()}, so a connection
 * on loopback is only moved by its application.
 */
public final class MigrationPolicy {

    private static final MigrationPolicy DEFAULTS = builder().build();
    private static final MigrationPolicy DISABLED = new MigrationPolicy(PolicyConfig.disabled());

    private final PolicyConfig config;

    private MigrationPolicy(PolicyConfig config) {
        this.config = config;
    }

    /** {@return a policy with every rule on, with the defaults above} */
    public static MigrationPolicy defaults() {
        return DEFAULTS;
    }

    /** {@return a policy that never moves a connection}: only the application's {@code migrate()} calls do. */
    public static MigrationPolicy disabled() {
        return DISABLED;
    }

    /** {@return a builder that starts from {@link #defaults()}} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return true unless this is {@link #disabled()}} */
    public boolean enabled() {
        return config.enabled();
    }

    /** {@return whether a connection moves when its network goes away or its sends fail} */
    public boolean migratesOnNetworkLoss() {
        return config.onNetworkLoss();
    }

    /** {@return whether a connection probes another network, and moves if it answers, when its path degrades} */
    public boolean migratesOnPathDegrading() {
        return config.onPathDegrading();
    }

    /** {@return how many of the path's probe timeouts without anything received, while a packet is in flight, count as degrading} */
    public int degradingProbeTimeouts() {
        return config.degradingPtoCount();
    }

    /** {@return whether a connection moves back to a preferred network when it is usable again} */
    public boolean returnsToPreferredNetwork() {
        return config.returnToPreferred();
    }

    /** {@return how many migrations the policy starts for one cause in a connection's life} */
    public int maxMigrationsPerCause() {
        return config.maxMigrationsPerCause();
    }

    /** {@return the probe interval of the standby the policy keeps, or empty if it keeps none} */
    public java.util.Optional<Duration> standbyProbeInterval() {
        return java.util.Optional.ofNullable(config.standbyProbeInterval());
    }

    /** {@return the interface-name patterns, most preferred first; empty for "the system's route choice first"} */
    public List<String> preferredInterfaces() {
        return config.interfacePatterns();
    }

    PolicyConfig config() {
        return config;
    }

    @Override
    public String toString() {
        return "MigrationPolicy" + config.toString().substring(config.getClass().getSimpleName().length());
    }

    /** Builds a {@link MigrationPolicy}; starts from the defaults. Not thread-safe. */
    public static final class Builder {
        private boolean onNetworkLoss = true;
        private boolean onPathDegrading = true;
        private int degradingPtoCount = 4;
        private boolean returnToPreferred = true;
        private Duration returnFirstRetry = Duration.ofSeconds(1);
        private Duration returnMaxRetry = Duration.ofSeconds(128);
        private int maxMigrationsPerCause = 5;
        private Duration maxTimeAway = Duration.ofMinutes(10);
        private List<String> patterns = List.of();
        private Duration standbyProbeInterval;

        private Builder() {
        }

        /**
         * Move, switching first, when the active network goes away or its sends fail. Default on.
         *
         * @param migrate whether to
         * @return this builder
         */
        public Builder migrateOnNetworkLoss(boolean migrate) {
            this.onNetworkLoss = migrate;
            return this;
        }

        /**
         * Probe another network, and move if it answers, when the active path stops delivering. Default on.
         *
         * @param migrate whether to
         * @return this builder
         */
        public Builder migrateOnPathDegrading(boolean migrate) {
            this.onPathDegrading = migrate;
            return this;
        }

        /**
         * How many of the active path's probe timeouts (its PTO, without backoff) may pass with nothing received while
         * a packet is in flight before the path counts as degrading; at least 1. Default 4.
         *
         * @param count the probe timeouts, at least 1
         * @return this builder
         * @throws IllegalArgumentException if it is below 1
         */
        public Builder degradingProbeTimeouts(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("degradingProbeTimeouts must be at least 1: " + count);
            }
            this.degradingPtoCount = count;
            return this;
        }

        /**
         * Move back to a preferred network when it is usable again, validating first. Default on.
         *
         * @param returnToIt whether to
         * @return this builder
         */
        public Builder returnToPreferredNetwork(boolean returnToIt) {
            this.returnToPreferred = returnToIt;
            return this;
        }

        /**
         * The wait before retrying a failed return ({@code first}, doubling on every failure up to {@code max}).
         * Default 1 s and 128 s.
         *
         * @param first the first wait; positive
         * @param max   the longest wait; at least {@code first}
         * @return this builder
         * @throws IllegalArgumentException if a wait is not positive or {@code max} is below {@code first}
         */
        public Builder returnRetry(Duration first, Duration max) {
            Arguments.requirePositive(first, "first");
            Arguments.requirePositive(max, "max");
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException("max " + max + " is shorter than first " + first);
            }
            this.returnFirstRetry = first;
            this.returnMaxRetry = max;
            return this;
        }

        /**
         * How long after leaving a preferred network the policy still tries to return to it. Default 10 minutes.
         *
         * @param duration how long; positive
         * @return this builder
         * @throws IllegalArgumentException if it is zero or negative
         */
        public Builder maxTimeAwayFromPreferred(Duration duration) {
            this.maxTimeAway = Arguments.requirePositive(duration, "duration");
            return this;
        }

        /**
         * Migrations the policy starts for one cause in a connection's life, at least 0. Default 5.
         *
         * @param count the limit, at least 0
         * @return this builder
         * @throws IllegalArgumentException if it is negative
         */
        public Builder maxMigrationsPerCause(int count) {
            if (count < 0) {
                throw new IllegalArgumentException("maxMigrationsPerCause must not be negative: " + count);
            }
            this.maxMigrationsPerCause = count;
            return this;
        }

        /**
         * The interfaces the policy may use, most preferred first, as name patterns in which {@code *} matches any
         * characters: {@code preferInterfaces("wlan*", "rmnet*")} prefers Wi-Fi to cellular and never uses
         * anything else. No patterns (the default): every interface the monitor reports, the system's route choice
         * toward the server first.
         *
         * @param patterns the name patterns, most preferred first
         * @return this builder
         */
        public Builder preferInterfaces(String... patterns) {
            for (String pattern : patterns) {
                if (Objects.requireNonNull(pattern, "pattern").isEmpty()) {
                    throw new IllegalArgumentException("an interface pattern must not be empty");
                }
            }
            this.patterns = List.of(patterns);
            return this;
        }

        /**
         * Keeps a standby path on the network a move would go to (the most preferred usable network other than the
         * active one), probed every {@link MigratingConnection#DEFAULT_STANDBY_PROBE_INTERVAL}, or not (the
         * default). See {@link #keepStandby(Duration)}.
         *
         * @param keep whether to keep one
         * @return this builder
         */
        public Builder keepStandby(boolean keep) {
            this.standbyProbeInterval = keep ? MigratingConnection.DEFAULT_STANDBY_PROBE_INTERVAL : null;
            return this;
        }

        /**
         * Keeps a standby path ({@link MigratingConnection#addStandbyPath}) on the network a move would go to, probed
         * every {@code probeInterval}: when the active network is lost, the move to it completes at once, and the
         * server follows at full rate. The standby follows the networks: it is dropped when a more preferred one
         * appears and kept there instead, and taken again after every move. It costs two 1200-byte datagrams per
         * probe on that network, and holds the connection's spare connection ID, so an application's
         * {@code migrate()} to another address gives it up first (waiting for the server's next ID, a round trip).
         *
         * @param probeInterval how often to probe it, at least 100 ms
         * @return this builder
         * @throws IllegalArgumentException if it is below 100 ms
         */
        public Builder keepStandby(Duration probeInterval) {
            if (Arguments.requirePositive(probeInterval, "probeInterval").compareTo(Duration.ofMillis(100)) < 0) {
                throw new IllegalArgumentException("probe interval below 100 ms: " + probeInterval);
            }
            this.standbyProbeInterval = probeInterval;
            return this;
        }

        /** {@return the policy, immutable} */
        public MigrationPolicy build() {
            return new MigrationPolicy(new PolicyConfig(true, onNetworkLoss, onPathDegrading, degradingPtoCount,
                    returnToPreferred, returnFirstRetry, returnMaxRetry, maxMigrationsPerCause, maxTimeAway,
                    PolicyConfig.defaults().retryAfterFailure(), patterns, standbyProbeInterval));
        }
    }
}
