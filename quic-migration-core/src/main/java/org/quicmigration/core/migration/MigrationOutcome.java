package org.quicmigration.core.migration;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * How one migration attempt ended.
 *
 * @param oldTuple          the path the connection was on
 * @param newTuple          the path it tried to move to
 * @param oldPeerId         the destination connection ID used on the old path
 * @param newPeerId         the destination connection ID used on the new path
 * @param validated         true if the new path was validated and the connection is on it
 * @param fellBack          true if the connection moved to the new path, validation failed, and it went back
 * @param validationRttNanos round trip of the answered PATH_CHALLENGE, or -1
 * @param totalNanos        from the migration request to this outcome
 * @param challengesSent    PATH_CHALLENGE frames sent
 * @param cause             why the migration started
 */
public record MigrationOutcome(Tuple oldTuple, Tuple newTuple, ConnectionId oldPeerId, ConnectionId newPeerId,
                               boolean validated, boolean fellBack, long validationRttNanos, long totalNanos,
                               int challengesSent, MigrationCause cause) {
}
