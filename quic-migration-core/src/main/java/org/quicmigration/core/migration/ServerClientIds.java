package org.quicmigration.core.migration;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

/**
 * Which of the client's connection IDs the server uses on which path, and when the one it moved away from is
 * retired: the connection-ID half of {@link ServerMigrator}, sans-IO. RFC 9000 9.5: "an endpoint MUST NOT reuse a
 * connection ID when sending to more than one destination address." So after a move to a fresh ID the old one is
 * kept for its old path only, until it is retired; a path the client probes with a new ID of ours gets an ID of its
 * own for our path frames there; the active path uses the engine's current ID.
 *
 * <p>Not thread-safe: {@link ServerMigrator} serialises all calls.
 */
final class ServerClientIds {

    /** How many probed paths are remembered at once; a client probing more starts the record afresh. */
    static final int MAX_PROBED_PATHS = 4;

    /** A client ID the connection moved away from, the path it was used on, and its sequence number once known. */
    record LeftId(ConnectionId id, Tuple path) {
    }

    /** Our connection ID the client sent its last packet on the active path to; null before the first. */
    private ConnectionId idOnActivePath;
    private LeftId left;
    /** The left ID's sequence number, to retire it; -1 if none waits. */
    private int waitingSequence = -1;
    private ConnectionId waitingId;
    private long retireAtNanos = Long.MAX_VALUE;
    /**
     * A switch to a fresh ID was asked for and not confirmed yet; a retirement time set meanwhile is for the ID that
     * switch leaves, so it waits here until the switch is confirmed.
     */
    private boolean switchPending;
    private long retireAtAfterSwitch = Long.MAX_VALUE;
    /** Paths the client probed with a new ID of ours, and the client ID our path frames there carry. */
    private final Map<Tuple, ConnectionId> probeIds = new LinkedHashMap<>();
    /** Paths the client sent a PATH_CHALLENGE on while they were not active. */
    private final Set<Tuple> probedPaths = new HashSet<>();

    /**
     * Whether a packet to {@code destinationId} kept the ID of the active path: RFC 9000 9.5, a client that kept it
     * (a NAT rebinding) lets the server "continue to use the current connection ID with the new remote address".
     */
    boolean keptId(ConnectionId destinationId) {
        return idOnActivePath == null || idOnActivePath.equals(destinationId);
    }

    ConnectionId idOnActivePath() {
        return idOnActivePath;
    }

    boolean switchPending() {
        return switchPending;
    }

    void onActivePathId(ConnectionId destinationId) {
        idOnActivePath = destinationId;
    }

    /**
     * The client sent a PATH_CHALLENGE from {@code path}, which is not active. If it used a new ID of ours there, our
     * path frames there need a client ID no other path used: {@code nextClientId}, the one the connection moves to
     * next, so that if the client then moves there the path keeps its ID. If that ID serves another probed path
     * already, or there is none, our frames use the active path's ID.
     */
    void onProbed(Tuple path, boolean keptId, ConnectionId nextClientId) {
        if (probedPaths.size() >= MAX_PROBED_PATHS) {
            probedPaths.clear();
        }
        probedPaths.add(path);
        if (keptId || nextClientId == null || probeIds.containsKey(path) || probeIds.containsValue(nextClientId)) {
            return;
        }
        if (probeIds.size() >= MAX_PROBED_PATHS) {
            probeIds.clear();
        }
        probeIds.put(path, nextClientId);
    }

    /**
     * Whether path frames to {@code path} leave the engine's loss recovery once sent: all but those on a path the
     * client probes itself. Frames to a binding a NAT rebinding left behind, or to one it replaced before it
     * answered, are lost for certain, and the engine would take each loss for congestion and halve its window.
     */
    boolean leavesRecovery(Tuple path) {
        return !probedPaths.contains(path);
    }

    /**
     * The connection moves from {@code from} to {@code to}; {@code inUse} is the client ID it sends with now. With a
     * fresh ID, the one in use is left behind on {@code from}: a packet built with it after the move may only go there.
     */
    void onMove(Tuple from, Tuple to, boolean freshId, ConnectionId inUse) {
        probeIds.remove(to); // from now on the connection's current ID serves this path
        if (left != null && left.path().equals(to)) {
            left = null; // back on the path it was left on (a fall back): it routes nowhere else
        }
        if (freshId && !from.equals(to) && inUse != null) {
            left = new LeftId(inUse, from);
        }
        if (freshId && !from.equals(to)) {
            switchPending = true;
            retireAtAfterSwitch = Long.MAX_VALUE;
        }
    }

    /** The client ID a path frame to {@code path} must carry, or null for the one in use (the active path's). */
    ConnectionId sealWith(Tuple path, Tuple active) {
        if (path.equals(active)) {
            return null;
        }
        return left != null && left.path().equals(path) ? left.id() : probeIds.get(path);
    }

    /** The ID left behind and its path, or null. */
    LeftId left() {
        return left;
    }

    /**
     * The connection switched to a fresh ID; the one left, {@code leftSequence}, waits to be retired until the move
     * settles. The ID that waited before is in no packet being built now: it is retired at once.
     *
     * @return the sequence number to retire now, or -1
     */
    int onSwitched(int leftSequence, ConnectionId leftId) {
        int retireNow = takeWaiting();
        waitingSequence = leftSequence;
        waitingId = leftId;
        retireAtNanos = retireAtAfterSwitch;
        switchPending = false;
        retireAtAfterSwitch = Long.MAX_VALUE;
        return retireNow;
    }

    /** The client left no unused ID: the one in use stays, on the new path too, so nothing was left behind. */
    void onNoSpareId() {
        left = null;
        switchPending = false;
        retireAtAfterSwitch = Long.MAX_VALUE;
    }

    /**
     * Retire the waiting ID at {@code atNanos} or later (see {@link #retirementDue}): the one the switch asked for
     * leaves, if that switch is not confirmed yet.
     */
    void retireAt(long atNanos) {
        if (switchPending) {
            retireAtAfterSwitch = atNanos;
        } else if (waitingSequence >= 0) {
            retireAtNanos = atNanos;
        }
    }

    long nextTimerNanos() {
        return waitingSequence >= 0 ? retireAtNanos : Long.MAX_VALUE;
    }

    boolean retirementDue(long nowNanos) {
        return waitingSequence >= 0 && nowNanos >= retireAtNanos;
    }

    /**
     * Takes the waiting ID for retirement: nothing may use a retired ID, so it no longer routes its old path.
     *
     * @return its sequence number, or -1 if none waits
     */
    int takeWaiting() {
        int sequence = waitingSequence;
        if (sequence >= 0 && left != null && left.id().equals(waitingId)) {
            left = null;
        }
        if (sequence >= 0) {
            // A probed path may have been given this ID before a switch took it: no frame may carry it any more.
            probeIds.values().removeIf(waitingId::equals);
        }
        waitingSequence = -1;
        waitingId = null;
        retireAtNanos = Long.MAX_VALUE;
        return sequence;
    }
}
