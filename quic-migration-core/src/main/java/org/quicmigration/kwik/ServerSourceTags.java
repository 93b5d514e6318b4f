package org.quicmigration.kwik;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

import org.quicmigration.core.Tuple;

/**
 * Internal: the true source of each datagram of one server connection, carried through Kwik, which accepts datagrams
 * from the client's first address only (W17, docs/kwik-workarounds.md#w17). The receive thread presents each datagram
 * as coming from the first address through an {@link InetAddress} object that is equal to it but whose identity
 * stands for the datagram's path ({@link #tagFor}); the connection's packet thread reads the path back from the
 * packet's metadata ({@link #pathOf}). At most {@code maxTags} paths are remembered, oldest forgotten first.
 */
final class ServerSourceTags {

    /** An {@link InetAddress} object whose identity stands for {@code path}. */
    private record Tag(InetAddress presented, Tuple path) {
    }

    private final InetSocketAddress local;
    private final InetSocketAddress first;
    private final int maxTags;
    // Datagrams to the main address are keyed by source alone; those to a preferred address (rare) by their tuple.
    private final ConcurrentHashMap<InetSocketAddress, InetAddress> bySource = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Tuple, InetAddress> byPreferredTuple = new ConcurrentHashMap<>();
    private final ArrayDeque<Tag> inOrder = new ArrayDeque<>(); // oldest first, guarded by itself
    // Packet thread only: the last tag looked up, which is nearly always the next one too.
    private InetAddress lastTag;
    private Tuple lastTagPath;

    ServerSourceTags(InetSocketAddress local, InetSocketAddress first, int maxTags) {
        this.local = local;
        this.first = first;
        this.maxTags = maxTags;
    }

    /** Receive thread: the address object to present a datagram from {@code source} to {@code to} with. */
    InetAddress tagFor(InetSocketAddress to, InetSocketAddress source) {
        boolean main = to == local;
        Tuple preferredPath = main ? null : new Tuple(to, source);
        InetAddress tag = main ? bySource.get(source) : byPreferredTuple.get(preferredPath);
        if (tag != null) {
            return tag;
        }
        try {
            tag = InetAddress.getByAddress(first.getAddress().getAddress()); // a new object, equal to the first address
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: the length is that of a valid address
        }
        synchronized (inOrder) {
            inOrder.addLast(new Tag(tag, main ? new Tuple(local, source) : preferredPath));
            if (main) {
                bySource.put(source, tag);
            } else {
                byPreferredTuple.put(preferredPath, tag);
            }
            while (inOrder.size() > maxTags) {
                Tag eldest = inOrder.removeFirst();
                Tuple path = eldest.path();
                if (path.local() == local) {
                    bySource.remove(path.remote(), eldest.presented());
                } else {
                    byPreferredTuple.remove(path, eldest.presented());
                }
            }
        }
        return tag;
    }

    /** Packet thread: the path a datagram presented with {@code presented} came on, or null if it was forgotten. */
    Tuple pathOf(InetAddress presented) {
        if (presented == lastTag) {
            return lastTagPath;
        }
        synchronized (inOrder) {
            for (Tag entry : inOrder) {
                if (entry.presented() == presented) {
                    lastTag = presented;
                    lastTagPath = entry.path();
                    return lastTagPath;
                }
            }
        }
        return null;
    }
}
