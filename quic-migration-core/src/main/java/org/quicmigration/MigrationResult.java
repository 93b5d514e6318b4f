package org.quicmigration;

import java.time.Duration;

/**
 * A completed migration: the connection now uses {@link #newPath()}, which answered a PATH_CHALLENGE.
 *
 * @param oldPath                 the path the connection left
 * @param newPath                 the path it uses now
 * @param oldDestinationId        the peer connection ID used on the old path (hex); retired now
 * @param newDestinationId        the peer connection ID used on the new path (hex)
 * @param validationRoundTrip     from the answered PATH_CHALLENGE to its PATH_RESPONSE
 * @param total                   from the {@code migrate} call to the validated path
 * @param challengesSent          PATH_CHALLENGE frames sent (more than one if some were lost)
 * @param cause                   why the migration started: {@link MigrationCause#APPLICATION}, or the policy's
 *                                cause when the application asked for a move the policy had already started
 */
public record MigrationResult(NetworkPath oldPath, NetworkPath newPath, String oldDestinationId,
                              String newDestinationId, Duration validationRoundTrip, Duration total,
                              int challengesSent, MigrationCause cause) {
}
