package org.quicmigration.core.cid;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;

/**
 * The connection IDs the peer gave us, which we put in the Destination Connection ID of the packets we send.
 * Tracks sequence numbers, retire_prior_to, our active_connection_id_limit, which path uses which ID, and the
 * stateless reset tokens. Not thread-safe: owned by one connection's core.
 */
public final class PeerConnectionIds {

    /** One active peer connection ID. */
    public record Entry(long sequence, ConnectionId id, StatelessResetToken resetToken) {
    }

    /** What the caller must do after a NEW_CONNECTION_ID frame. */
    public record Update(List<Long> retire, List<Tuple> pathsThatLostTheirId) {
        static final Update NONE = new Update(List.of(), List.of());
    }

    private final int activeLimit;
    private final TreeMap<Long, Entry> active = new TreeMap<>();
    private final Map<Tuple, Long> sequenceByPath = new java.util.HashMap<>();
    private final Set<Long> retired = new HashSet<>();
    private long largestRetirePriorTo;

    /**
     * @param activeLimit the active_connection_id_limit we advertised (at least 2, RFC 9000 18.2)
     * @param initial     the peer's handshake connection ID (sequence 0), or null if not known yet
     * @param initialToken its reset token (from the server's stateless_reset_token parameter), or null
     */
    public PeerConnectionIds(int activeLimit, ConnectionId initial, StatelessResetToken initialToken) {
        if (activeLimit < 2) {
            throw new IllegalArgumentException("active_connection_id_limit must be at least 2, was " + activeLimit);
        }
        this.activeLimit = activeLimit;
        if (initial != null) {
            active.put(0L, new Entry(0, initial, initialToken));
        }
    }

    /**
     * Processes a NEW_CONNECTION_ID frame (RFC 9000 19.15).
     *
     * @return the sequence numbers to retire with RETIRE_CONNECTION_ID and the paths whose ID was retired (they
     *         must switch to another ID before sending again)
     * @throws TransportErrorException if the frame breaks a rule; the connection must close
     */
    public Update onNewConnectionId(long sequence, ConnectionId id, StatelessResetToken token, long retirePriorTo)
            throws TransportErrorException {
        // 19.15: "Receiving a value in the Retire Prior To field that is greater than that in the Sequence Number
        // field MUST be treated as a connection error of type FRAME_ENCODING_ERROR."
        if (retirePriorTo > sequence) {
            throw new TransportErrorException(TransportErrorException.FRAME_ENCODING_ERROR,
                    "NEW_CONNECTION_ID retire_prior_to " + retirePriorTo + " exceeds its sequence " + sequence);
        }
        if (id.length() == 0) {
            // 19.15: "Values less than 1 and greater than 20 are invalid and MUST be treated as a connection error
            // of type FRAME_ENCODING_ERROR."
            throw new TransportErrorException(TransportErrorException.FRAME_ENCODING_ERROR,
                    "NEW_CONNECTION_ID with a zero-length connection ID");
        }
        Entry known = active.get(sequence);
        if (known != null) {
            // 19.15: "Receipt of the same frame multiple times MUST NOT be treated as a connection error." A sequence
            // number reused for another ID may be treated as PROTOCOL_VIOLATION.
            if (!known.id().equals(id)) {
                throw new TransportErrorException(TransportErrorException.PROTOCOL_VIOLATION,
                        "sequence " + sequence + " was " + known.id() + " and is now " + id);
            }
        }
        for (Entry entry : active.values()) {
            if (entry.id().equals(id) && entry.sequence() != sequence) {
                throw new TransportErrorException(TransportErrorException.PROTOCOL_VIOLATION,
                        "connection ID " + id + " repeated with sequence " + sequence + " (was " + entry.sequence() + ")");
            }
        }

        List<Long> toRetire = new ArrayList<>();
        List<Tuple> orphaned = new ArrayList<>();
        // 5.1.2: "Upon receipt of an increased Retire Prior To field, the peer MUST stop using the corresponding
        // connection IDs and retire them with RETIRE_CONNECTION_ID frames before adding the newly provided
        // connection ID to the set of active connection IDs."
        if (retirePriorTo > largestRetirePriorTo) {
            largestRetirePriorTo = retirePriorTo;
            for (Long old : new ArrayList<>(active.headMap(retirePriorTo).keySet())) {
                retire(old, toRetire, orphaned);
            }
        }
        if (known == null && !retired.contains(sequence)) {
            if (sequence < largestRetirePriorTo) {
                // 19.15: "An endpoint that receives a NEW_CONNECTION_ID frame with a sequence number smaller than the
                // Retire Prior To field of a previously received NEW_CONNECTION_ID frame MUST send a corresponding
                // RETIRE_CONNECTION_ID frame that retires the newly received connection ID".
                retired.add(sequence);
                toRetire.add(sequence);
            } else {
                active.put(sequence, new Entry(sequence, id, token));
            }
        }
        // 5.1.1: "if the number of active connection IDs exceeds the value advertised in its
        // active_connection_id_limit transport parameter, an endpoint MUST close the connection with an error of
        // type CONNECTION_ID_LIMIT_ERROR."
        if (active.size() > activeLimit) {
            throw new TransportErrorException(TransportErrorException.CONNECTION_ID_LIMIT_ERROR,
                    "peer has " + active.size() + " active connection IDs, our limit is " + activeLimit);
        }
        return toRetire.isEmpty() ? Update.NONE : new Update(List.copyOf(toRetire), List.copyOf(orphaned));
    }

    /**
     * Gives {@code path} its own connection ID: the one it already has, or the unused one with the lowest
     * sequence number. RFC 9000 9.5: "An endpoint MUST NOT reuse a connection ID when sending from more than one
     * local address".
     *
     * @return the entry, or empty if every active ID is in use on another path (no spare)
     */
    public Optional<Entry> assign(Tuple path) {
        Long current = sequenceByPath.get(path);
        if (current != null) {
            return Optional.of(active.get(current));
        }
        for (Entry entry : active.values()) {
            if (!sequenceByPath.containsValue(entry.sequence())) {
                sequenceByPath.put(path, entry.sequence());
                return Optional.of(entry);
            }
        }
        return Optional.empty();
    }

    /** Records that {@code path} already uses the ID with this sequence (for the handshake path). */
    public void bind(Tuple path, long sequence) {
        if (!active.containsKey(sequence)) {
            throw new IllegalArgumentException("no active peer connection ID with sequence " + sequence);
        }
        sequenceByPath.put(path, sequence);
    }

    /** The ID {@code path} uses, if any. */
    public Optional<Entry> current(Tuple path) {
        Long sequence = sequenceByPath.get(path);
        return sequence == null ? Optional.empty() : Optional.of(active.get(sequence));
    }

    /**
     * The path is left for good: its ID is retired (RFC 9000 5.1.2, an ID used on an abandoned path must not be
     * used again). Returns the sequence number to send in RETIRE_CONNECTION_ID, if the path had an ID.
     */
    public Optional<Long> release(Tuple path) {
        Long sequence = sequenceByPath.remove(path);
        if (sequence == null) {
            return Optional.empty();
        }
        active.remove(sequence);
        retired.add(sequence);
        return Optional.of(sequence);
    }

    /** Active IDs no path uses: what the next migrations can take. */
    public int spareCount() {
        return active.size() - sequenceByPath.size();
    }

    public int activeCount() {
        return active.size();
    }

    /** A snapshot of the active IDs, lowest sequence first. */
    public List<Entry> active() {
        return List.copyOf(active.values());
    }

    /**
     * True if the datagram ends with the reset token of an ID a path uses, whichever path the datagram came on. RFC
     * 9000 10.3.1: "An endpoint MUST NOT check for any stateless reset tokens associated with connection IDs it has
     * not used or for connection IDs that have been retired." A spare ID is not used yet; a retired one is no longer
     * active.
     */
    public boolean isStatelessReset(byte[] datagram, int length) {
        for (long sequence : sequenceByPath.values()) {
            Entry entry = active.get(sequence);
            if (entry != null && entry.resetToken() != null && entry.resetToken().matchesTailOf(datagram, length)) {
                return true;
            }
        }
        return false;
    }

    private void retire(long sequence, List<Long> toRetire, List<Tuple> orphaned) {
        active.remove(sequence);
        retired.add(sequence);
        toRetire.add(sequence);
        sequenceByPath.entrySet().removeIf(entry -> {
            if (entry.getValue() == sequence) {
                orphaned.add(entry.getKey());
                return true;
            }
            return false;
        });
    }
}
