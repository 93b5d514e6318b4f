package org.quicmigration.core.migration;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * Where the server's packets go, as decided by {@link ServerMigrator}: an immutable value that sending code reads
 * without taking part in any decision.
 *
 * @param active          the path the connection sends on
 * @param activeValidated whether that path is validated; until it is, what is sent there is limited to three times
 *                        what came from it (RFC 9000 8) and waits for the path's challenge
 * @param leftId          a client connection ID the connection moved away from, or null: a packet built with it may
 *                        only go to {@code leftPath} (RFC 9000 9.5)
 * @param leftPath        the path {@code leftId} was used on, or null
 * @param idOnActivePath  our connection ID the client sent its last packet on the active path to, or null
 */
public record ServerRouting(Tuple active, boolean activeValidated, ConnectionId leftId, Tuple leftPath,
                            ConnectionId idOnActivePath) {

    /**
     * The left path, if the datagram is a short-header packet built with the left ID; else null (it goes to the active
     * path). Allocation-free.
     */
    public Tuple leftPathFor(byte[] datagram, int offset, int length) {
        if (leftId != null && length > 1 + leftId.length() && (datagram[offset] & 0x80) == 0
                && leftId.matches(datagram, offset + 1)) {
            return leftPath;
        }
        return null;
    }

    /**
     * Whether a packet from {@code tuple} to our ID {@code destinationId}, with no path frames, changes nothing: it came
     * on the validated active path, to the ID the client uses there. Allocation-free; for every packet received.
     */
    public boolean isRoutine(Tuple tuple, byte[] destinationId) {
        return activeValidated && idOnActivePath != null && idOnActivePath.length() == destinationId.length
                && idOnActivePath.matches(destinationId, 0) && active.equals(tuple);
    }
}
