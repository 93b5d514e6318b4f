package org.quicmigration.core.cid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;

/**
 * The connection IDs we issue to the peer (it sends to us with them), each with its stateless reset token. Keeps
 * the peer supplied with spare IDs up to its active_connection_id_limit so it can always migrate (RFC 9000
 * 5.1.1). Not thread-safe: owned by one connection's core.
 */
public final class LocalConnectionIds {

    /** An ID we issued; send it in NEW_CONNECTION_ID. */
    public record Issued(long sequence, ConnectionId id, StatelessResetToken resetToken) {
    }

    /** We never keep more than this many IDs active, whatever the peer allows: a bound on state per connection. */
    public static final int MAX_ACTIVE = 8;

    private final int idLength;
    private final RandomGenerator random;
    private final TreeMap<Long, Issued> active = new TreeMap<>();
    private long nextSequence;
    private int peerLimit = 2;

    /**
     * @param initial  the ID we chose in the handshake (sequence 0)
     * @param idLength the length of the IDs we issue
     * @param random   source of unpredictable IDs and tokens
     */
    public LocalConnectionIds(ConnectionId initial, int idLength, RandomGenerator random) {
        if (idLength < 1 || idLength > ConnectionId.MAX_LENGTH) {
            throw new IllegalArgumentException("connection ID length must be 1-20, was " + idLength);
        }
        this.idLength = idLength;
        this.random = random;
        active.put(0L, new Issued(0, initial, null));
        nextSequence = 1;
    }

    /** The peer's active_connection_id_limit transport parameter (RFC 9000 18.2; a value below 2 is invalid). */
    public void peerLimit(long limit) {
        this.peerLimit = (int) Math.min(limit, MAX_ACTIVE);
    }

    /**
     * Issues new IDs until the peer holds as many as it allows (RFC 9000 5.1.1: "An endpoint SHOULD ensure that
     * its peer has a sufficient number of available and unused connection IDs").
     *
     * @return the IDs to send in NEW_CONNECTION_ID frames, oldest first
     */
    public List<Issued> topUp() {
        List<Issued> issued = new ArrayList<>();
        while (active.size() < peerLimit) {
            Issued id = new Issued(nextSequence++, ConnectionId.random(idLength, random), StatelessResetToken.random(random));
            active.put(id.sequence(), id);
            issued.add(id);
        }
        return issued;
    }

    /**
     * Processes RETIRE_CONNECTION_ID (RFC 9000 19.16) and issues a replacement.
     *
     * @param sequence             the retired sequence number
     * @param packetDestinationId  the destination ID of the packet that carried the frame
     * @return the replacement IDs to send
     * @throws TransportErrorException if the frame breaks a rule
     */
    public List<Issued> onRetire(long sequence, ConnectionId packetDestinationId) throws TransportErrorException {
        // 19.16: "Receipt of a RETIRE_CONNECTION_ID frame containing a sequence number greater than any previously
        // sent to the peer MUST be treated as a connection error of type PROTOCOL_VIOLATION."
        if (sequence >= nextSequence) {
            throw new TransportErrorException(TransportErrorException.PROTOCOL_VIOLATION,
                    "peer retired sequence " + sequence + ", we only issued up to " + (nextSequence - 1));
        }
        Issued retiring = active.get(sequence);
        // 19.16: "The sequence number specified in a RETIRE_CONNECTION_ID frame MUST NOT refer to the Destination
        // Connection ID field of the packet in which the frame is contained. The peer MAY treat this as a
        // connection error of type PROTOCOL_VIOLATION."
        if (retiring != null && retiring.id().equals(packetDestinationId)) {
            throw new TransportErrorException(TransportErrorException.PROTOCOL_VIOLATION,
                    "peer retired " + retiring.id() + " in a packet sent to that same ID");
        }
        active.remove(sequence);
        return topUp();
    }

    /** The sequence number of one of our active IDs, if {@code id} is one. */
    public Optional<Long> sequenceOf(ConnectionId id) {
        for (Map.Entry<Long, Issued> entry : active.entrySet()) {
            if (entry.getValue().id().equals(id)) {
                return Optional.of(entry.getKey());
            }
        }
        return Optional.empty();
    }

    public int activeCount() {
        return active.size();
    }

    public List<Issued> active() {
        return List.copyOf(active.values());
    }
}
