package org.quicmigration.core.migration;

import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import org.quicmigration.core.Tuple;
import org.quicmigration.core.path.AmplificationBudget;
import org.quicmigration.core.path.PathValidation;

/**
 * The paths {@link ServerPathManager} tracks for one connection: at most {@code maxPaths}, so a client (or attacker)
 * that hops over thousands of addresses costs bounded memory. Insertion order is age; the active and the last
 * validated path are never evicted, an address never validated goes before one the client may come back to, and a
 * validated address not heard from for longer than the memory is forgotten. Not thread-safe.
 */
final class ServerPathTable {

    /** Per-path state. */
    static final class PathState {
        final Tuple tuple;
        final AmplificationBudget budget;
        PathValidation validation;
        /**
         * The client sent a non-probing packet here, to one of our preferred addresses, and the move waits for the
         * path's validation (RFC 9000 9.6.2); whether that packet kept the active path's connection ID.
         */
        boolean moveWhenValidated;
        boolean keptIdForMove;
        /** The round trip its last successful validation measured. */
        long validatedRoundTripNanos;
        /** A challenge of the validation underway left in a datagram the budget kept below 1200 bytes. */
        boolean smallChallengeSent;
        /** The validation underway only confirms, at full size, a path validated with small challenges (8.2.1). */
        boolean confirming;
        /** When a datagram last came from the path: a validated path not heard from for the memory is forgotten. */
        long lastHeardNanos;

        PathState(Tuple tuple, int amplificationFactor) {
            this.tuple = tuple;
            this.budget = new AmplificationBudget(amplificationFactor);
        }
    }

    private final LinkedHashMap<Tuple, PathState> paths = new LinkedHashMap<>();
    private final int maxPaths;
    private final int amplificationFactor;
    /** How long a validated address counts as "seen recently" (RFC 9000 9.3) after its last datagram. */
    private final long memoryNanos;

    ServerPathTable(int maxPaths, int amplificationFactor, long memoryNanos) {
        this.maxPaths = maxPaths;
        this.amplificationFactor = amplificationFactor;
        this.memoryNanos = memoryNanos;
    }

    /** The state of {@code tuple}, or null if it is not tracked. */
    PathState get(Tuple tuple) {
        return paths.get(tuple);
    }

    Collection<PathState> values() {
        return paths.values();
    }

    int size() {
        return paths.size();
    }

        /**
     * The state of {@code tuple}, tracked from now on if it was not (or was forgotten); to make room, the oldest idle
     * path goes (see {@link #evictOldestIdle}).
     */
    PathState track(long nowNanos, Tuple tuple, Tuple active, Tuple lastValidated) {
        PathState path = paths.get(tuple);
        if (path != null && forgotten(path, nowNanos, active, lastValidated)) {
            // RFC 9000 9.3: "An endpoint MAY skip validation of a peer address if that address has been seen
            // recently." Not heard from for longer than the memory, it is not recent: a new address again.
            paths.remove(tuple);
            path = null;
        }
        if (path != null) {
            return path;
        }
        if (paths.size() >= maxPaths) {
            evictOldestIdle(active, lastValidated);
        }
        path = new PathState(tuple, amplificationFactor);
        paths.put(tuple, path);
        return path;
    }

    /** A validated path, neither active nor the fall back, not heard from for longer than the memory. */
    private boolean forgotten(PathState path, long nowNanos, Tuple active, Tuple lastValidated) {
        return path.budget.isValidated() && path.validation == null && !path.tuple.equals(active)
                && !path.tuple.equals(lastValidated) && nowNanos - path.lastHeardNanos > memoryNanos;
    }

    /**
     * Forgets the oldest path that is neither active nor the last validated one, nor being validated; an address never
     * validated before one the client may come back to, so a flood of new addresses cannot wipe the memory.
     */
    private void evictOldestIdle(Tuple active, Tuple lastValidated) {
        for (boolean validatedToo : new boolean[]{false, true}) {
            for (Iterator<Map.Entry<Tuple, PathState>> it = paths.entrySet().iterator(); it.hasNext(); ) {
                PathState candidate = it.next().getValue();
                if (!candidate.tuple.equals(active) && !candidate.tuple.equals(lastValidated)
                        && candidate.validation == null && (validatedToo || !candidate.budget.isValidated())) {
                    it.remove();
                    return;
                }
            }
        }
        // Every tracked path is busy: drop the oldest validation that is not for the active path.
        for (Iterator<Map.Entry<Tuple, PathState>> it = paths.entrySet().iterator(); it.hasNext(); ) {
            PathState candidate = it.next().getValue();
            if (!candidate.tuple.equals(active) && !candidate.tuple.equals(lastValidated)) {
                it.remove();
                return;
            }
        }
    }
}
