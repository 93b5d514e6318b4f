package org.quicmigration.core.policy;

import java.net.InetAddress;

import org.quicmigration.core.migration.MigrationCause;
import org.quicmigration.core.migration.MigrationMode;

/** What the network-change policy asks its caller to do. */
public sealed interface PolicyAction {

    /**
     * Start a migration to {@code local} (any port) in {@code mode}; report its start and end back with
     * {@link NetworkChangePolicy#onMigrationFinished}.
     */
    record Migrate(InetAddress local, MigrationMode mode, MigrationCause cause) implements PolicyAction {
    }

    /** The active path is gone and no other network is usable: the connection waits for one (until it idles out). */
    record WaitForNetwork(InetAddress lost) implements PolicyAction {
    }

    /**
     * The active path's network is back (its address reappeared, or a send on it worked again) after it was lost, and
     * the connection is still on it: send on it now. What was sent meanwhile never arrived, and the engine's probe
     * timeouts, doubled at every unanswered probe, would otherwise wait seconds before the next try.
     */
    record Resume(InetAddress local) implements PolicyAction {
    }

    /**
     * Keep a standby path on {@code local} (any port), probed every {@code probeInterval}; report the outcome with
     * {@link NetworkChangePolicy#onStandby} or {@link NetworkChangePolicy#onStandbyRefused}.
     */
    record KeepStandby(InetAddress local, java.time.Duration probeInterval) implements PolicyAction {
    }

    /** Give up the standby on {@code local}: it is no longer on the network a move would go to. */
    record DropStandby(InetAddress local) implements PolicyAction {
    }

    /** The policy started its last allowed migration for {@code cause}; it starts no more for that cause. */
    record LimitReached(MigrationCause cause, int migrations) implements PolicyAction {
    }
}
