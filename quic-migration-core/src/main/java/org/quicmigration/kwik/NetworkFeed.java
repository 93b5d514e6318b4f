package org.quicmigration.kwik;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.quicmigration.core.policy.LocalNetwork;

/**
 * Internal: where the binding learns which local networks are usable, whatever the source (the JDK, or the
 * application's own signals). The public API adapts its network monitor to this.
 */
public interface NetworkFeed {

    /** The usable local networks now. */
    List<LocalNetwork> networks();

    /** The source address the OS would choose toward {@code destination}, or null if unknown. */
    InetAddress defaultSource(InetSocketAddress destination);

    /**
     * Calls {@code onChange} (on any thread; it returns at once) whenever {@link #networks()} may have changed.
     *
     * @return stops the calls
     */
    Runnable subscribe(Runnable onChange);

    /** A feed that reports nothing and never changes. */
    NetworkFeed NONE = new NetworkFeed() {
        @Override
        public List<LocalNetwork> networks() {
            return List.of();
        }

        @Override
        public InetAddress defaultSource(InetSocketAddress destination) {
            return null;
        }

        @Override
        public Runnable subscribe(Runnable onChange) {
            return () -> { };
        }
    };
}
