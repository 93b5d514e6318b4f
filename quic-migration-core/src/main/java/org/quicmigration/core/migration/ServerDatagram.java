package org.quicmigration.core.migration;

import java.time.Duration;
import java.util.List;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * An authenticated 1-RTT packet of the connection, as {@link ServerMigrator#onDatagram} needs to know it.
 *
 * @param nowNanos            when it arrived (monotonic clock)
 * @param tuple               the path it came on: our address it was sent to, and the client address it came from
 * @param bytes               the size of its datagram, for the path's anti-amplification budget (RFC 9000 8)
 * @param nonProbing          whether it held a frame other than PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and
 *                            PADDING (RFC 9000 9.1)
 * @param highestPacketNumber whether its packet number is the highest received so far
 * @param destinationId       our connection ID it was sent to
 * @param challenges          the data of each PATH_CHALLENGE in it
 * @param answerChallenges    whether {@link ServerMigrator} answers those challenges on their path (RFC 9000 8.2.2);
 *                            false if the engine was left to answer them itself
 * @param responses           the data of each PATH_RESPONSE in it
 * @param clientIdInUse       the client connection ID the connection sends with now
 * @param nextClientId        the client's connection ID the connection would move to next, or null if it has none
 * @param pto                 the active path's probe timeout now, for validation timeouts
 */
public record ServerDatagram(long nowNanos, Tuple tuple, int bytes, boolean nonProbing, boolean highestPacketNumber,
                             ConnectionId destinationId, List<byte[]> challenges, boolean answerChallenges,
                             List<byte[]> responses, ConnectionId clientIdInUse, ConnectionId nextClientId,
                             Duration pto) {

    public ServerDatagram {
        challenges = List.copyOf(challenges);
        responses = List.copyOf(responses);
    }

    /** Whether it carried a PATH_CHALLENGE or a PATH_RESPONSE. */
    public boolean hasPathFrames() {
        return !challenges.isEmpty() || !responses.isEmpty();
    }
}
