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

    /** The policy started its last allowed migration for {@code cause}; it starts no more for that cause. */
    record LimitReached(MigrationCause cause, int migrations) implements PolicyAction {
    }
}
