package org.quicmigration;

import java.util.ArrayDeque;
import java.util.List;

/** The paths a connection has used, oldest first, the newest {@link #MAX} of them. Thread-safe. */
final class PathHistory {

    static final int MAX = 64;

    private final ArrayDeque<NetworkPath> paths = new ArrayDeque<>(); // guarded by itself

    PathHistory(NetworkPath first) {
        paths.add(first);
    }

    /** Adds {@code path} unless it is the newest already. */
    void record(NetworkPath path) {
        synchronized (paths) {
            if (!path.equals(paths.peekLast())) {
                if (paths.size() == MAX) {
                    paths.removeFirst();
                }
                paths.addLast(path);
            }
        }
    }

    List<NetworkPath> snapshot() {
        synchronized (paths) {
            return List.copyOf(paths);
        }
    }
}
