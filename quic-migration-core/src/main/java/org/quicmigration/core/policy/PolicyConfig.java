package org.quicmigration.core.policy;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The knobs of {@link NetworkChangePolicy}, validated by the public builder that makes them.
 *
 * @param enabled             false: the policy never migrates (the application does, if it wants)
 * @param onNetworkLoss       migrate, switching first, when the active path's address goes or its sends fail
 * @param onPathDegrading     probe another network, and move if it answers, when the active path stops delivering
 * @param degradingPtoCount   probe timeouts in a row without an acknowledgement that count as degrading
 * @param returnToPreferred   move back, validating first, when a preferred network is usable again
 * @param returnFirstRetry    the wait before the first retry of a failed return; doubles on every failure
 * @param returnMaxRetry      the longest wait between two return attempts
 * @param maxMigrationsPerCause migrations the policy starts for one cause in one connection's life
 * @param maxTimeAway         how long after leaving a preferred network the policy still tries to return to it
 * @param retryAfterFailure   the wait before the policy tries again after one of its migrations failed
 * @param interfacePatterns   the interfaces the policy may use, most preferred first ({@code *} matches any
 *                            characters); empty: every interface the monitor reports, the kernel's choice first
 * @param standbyProbeInterval if not null, keep a standby path on the network a move would go to, probed at this
 *                             interval; null: no standby
 */
public record PolicyConfig(boolean enabled, boolean onNetworkLoss, boolean onPathDegrading, int degradingPtoCount,
                           boolean returnToPreferred, Duration returnFirstRetry, Duration returnMaxRetry,
                           int maxMigrationsPerCause, Duration maxTimeAway, Duration retryAfterFailure,
                           List<String> interfacePatterns, Duration standbyProbeInterval) {

    /** Without a standby. */
    public PolicyConfig(boolean enabled, boolean onNetworkLoss, boolean onPathDegrading, int degradingPtoCount,
                        boolean returnToPreferred, Duration returnFirstRetry, Duration returnMaxRetry,
                        int maxMigrationsPerCause, Duration maxTimeAway, Duration retryAfterFailure,
                        List<String> interfacePatterns) {
        this(enabled, onNetworkLoss, onPathDegrading, degradingPtoCount, returnToPreferred, returnFirstRetry,
                returnMaxRetry, maxMigrationsPerCause, maxTimeAway, retryAfterFailure, interfacePatterns, null);
    }

    /** The same knobs, keeping a standby probed at {@code interval} (null: none). */
    public PolicyConfig withStandby(Duration interval) {
        return new PolicyConfig(enabled, onNetworkLoss, onPathDegrading, degradingPtoCount, returnToPreferred,
                returnFirstRetry, returnMaxRetry, maxMigrationsPerCause, maxTimeAway, retryAfterFailure,
                interfacePatterns, interval);
    }

    public PolicyConfig {
        interfacePatterns = List.copyOf(interfacePatterns);
        if (degradingPtoCount < 1 || maxMigrationsPerCause < 0) {
            throw new IllegalArgumentException("degradingPtoCount must be at least 1, maxMigrationsPerCause at least 0");
        }
    }

    /** The defaults: every rule on, 4 probe timeouts, returns retried after 1 s doubling to 128 s, 5 per cause. */
    public static PolicyConfig defaults() {
        return new PolicyConfig(true, true, true, 4, true, Duration.ofSeconds(1), Duration.ofSeconds(128), 5,
                Duration.ofMinutes(10), Duration.ofMillis(250), List.of());
    }

    /** A policy that never migrates. */
    public static PolicyConfig disabled() {
        PolicyConfig d = defaults();
        return new PolicyConfig(false, false, false, d.degradingPtoCount, false, d.returnFirstRetry,
                d.returnMaxRetry, 0, d.maxTimeAway, d.retryAfterFailure, List.of());
    }

    /** The rank of an interface name among the patterns (0 is the most preferred), or -1 if none matches. */
    int rankOf(String interfaceName) {
        for (int i = 0; i < interfacePatterns.size(); i++) {
            if (globMatches(interfacePatterns.get(i), interfaceName)) {
                return i;
            }
        }
        return -1;
    }

    static boolean globMatches(String glob, String name) {
        StringBuilder regex = new StringBuilder();
        String[] parts = glob.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(parts[i]));
        }
        return Pattern.matches(regex.toString(), name);
    }
}
