package org.quicmigration.kwik;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Internal: which of {@link ClientPathSocket}'s paths failed (a send or receive on its socket threw), and the
 * listener told once per failure and once per recovery (the next good send). Called on Kwik's sender thread (sends)
 * and receiver thread (receives); paths are forgotten on the thread that closes them.
 */
final class PathFailures {

    private static final System.Logger LOG = System.getLogger(ClientPathSocket.class.getName());

    /** The paths whose last send or receive failed; reported once per failure, cleared by the next good send. */
    private final Set<DatagramChannel> failedPaths = ConcurrentHashMap.newKeySet();
    /** Told when a path's socket fails or works again; null until the connection exists. */
    private volatile Listener listener;
    /** The local address of a path's channel, or null once the path is closed. */
    private final Function<DatagramChannel, InetSocketAddress> localOf;

    /**
     * Hears about the OS taking a path away: a send or receive on its socket failed (the local address was removed,
     * the route or link went away, a firewall refused the datagram). Called on Kwik's sender or receiver thread,
     * once per failure and once per recovery; implementations hand off and return at once.
     */
    interface Listener {
        void pathFailed(InetSocketAddress local, IOException error);

        void pathWorks(InetSocketAddress local);
    }

    PathFailures(Function<DatagramChannel, InetSocketAddress> localOf) {
        this.localOf = localOf;
    }

    void listener(Listener listener) {
        this.listener = listener;
    }

    /** A send or receive on {@code channel} failed. */
    void failed(DatagramChannel channel, IOException error) {
        if (failedPaths.add(channel)) {
            InetSocketAddress local = localOf.apply(channel);
            LOG.log(System.Logger.Level.DEBUG, () -> "path on " + local + " failed: " + error);
            Listener told = listener;
            if (told != null && local != null) {
                told.pathFailed(local, error);
            }
        }
    }

    /** A datagram left on {@code channel}: if that path had failed, it works again. */
    void sent(DatagramChannel channel) {
        if (!failedPaths.isEmpty() && failedPaths.remove(channel)) {
            InetSocketAddress local = localOf.apply(channel);
            Listener told = listener;
            if (told != null && local != null) {
                told.pathWorks(local);
            }
        }
    }

    /** The path of {@code channel} is closed. */
    void forget(DatagramChannel channel) {
        failedPaths.remove(channel);
    }
}
