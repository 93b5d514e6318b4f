package org.quicmigration.kwik;

import java.io.IOException;
import java.net.SocketAddress;

/**
 * Internal: the server socket's send errors, counted, and logged at most once a second: a dead path fails every
 * datagram sent there (W18, docs/kwik-workarounds.md#w18).
 */
final class SendFailures {

    private static final System.Logger LOG = System.getLogger(SendFailures.class.getName());

    private final java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
    private volatile long lastLogNanos = System.nanoTime() - 2_000_000_000L;

    void record(SocketAddress to, IOException error) {
        long total = count.incrementAndGet();
        long now = System.nanoTime();
        if (now - lastLogNanos > 1_000_000_000L) {
            lastLogNanos = now;
            LOG.log(System.Logger.Level.INFO, () -> "sending to " + to + " failed (" + error.getMessage()
                    + "); counted as lost, " + total + " send errors so far");
        }
    }
}
