package org.quicmigration.core.migration;

import java.net.InetSocketAddress;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.cid.PeerConnectionIds;

/** Whether the client may start a migration or a standby now: the refusal it gets if not. */
final class MigrationRules {

    private MigrationRules() {
    }

    /**
     * Throws the refusal a migration (or a standby, which sends from a new local address too) towards
     * {@code remote} gets now; a permanent refusal is reported before a passing one.
     *
     * @param running      the migration in progress, or null
     * @param needsSpareId whether the move takes the spare peer connection ID (not if it goes to the standby)
     */
    static void check(MigrationAttempt running, StandbySlot standby, PeerConnectionIds peerIds, Tuple active,
                      boolean handshakeConfirmed, boolean peerDisabledMigration, InetSocketAddress remote,
                      boolean needsSpareId) throws MigrationRefusedException {
        if (running != null) {
            throw new MigrationRefusedException(MigrationRefusal.MIGRATION_IN_PROGRESS,
                    "a migration to " + running.newTuple + " has not finished");
        }
        // RFC 9000 18.2: with disable_active_migration "the endpoint MUST NOT use a new local address when sending
        // to the address that the peer used during the handshake".
        if (peerDisabledMigration && remote.equals(active.remote())) {
            throw new MigrationRefusedException(MigrationRefusal.PEER_DISABLED_MIGRATION,
                    "the server sent disable_active_migration");
        }
        // RFC 9000 9: "An endpoint MUST NOT initiate connection migration before the handshake is confirmed".
        if (!handshakeConfirmed) {
            throw new MigrationRefusedException(MigrationRefusal.HANDSHAKE_NOT_CONFIRMED,
                    "the handshake is not confirmed yet (RFC 9000 section 9)");
        }
        if (needsSpareId && peerIds.spareCount() == 0) {
            throw new MigrationRefusedException(MigrationRefusal.NO_SPARE_CONNECTION_ID, standby.exists()
                    ? "the spare connection ID is held by the standby path " + standby.tuple().orElseThrow()
                    + "; move there, or remove the standby first"
                    : "the server has given no spare connection ID (" + peerIds.activeCount() + " active, all in use)");
        }
    }
}
