package org.quicmigration.examples;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationException;
import org.quicmigration.MigrationResult;

/** Small pieces the examples share. */
final class Examples {

    private Examples() {
    }

    /** A server connection handler: echoes every stream the client opens until the client is done. */
    static void echoEveryStream(MigratingConnection connection) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                try (InputStream in = stream.getInputStream(); OutputStream out = stream.getOutputStream()) {
                    in.transferTo(out);
                }
            }
        } catch (Exception e) {
            // the client closed the connection: this handler is done
        }
    }

    /**
     * Waits (at most 5 s) until the server has given a spare connection ID, which a migration needs; right after
     * the handshake it may still be on its way.
     */
    static void awaitSpareConnectionId(MigratingConnection connection) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (connection.spareConnectionIds() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    /**
     * Migrates, retrying for at most 5 s while the handshake is not confirmed yet: connect() returns when the
     * client's handshake is complete, and the server's HANDSHAKE_DONE, which confirms it (RFC 9001 4.1.2), may still
     * be on its way; RFC 9000 9 forbids migrating before it.
     */
    static MigrationResult migrate(MigratingConnection connection, InetSocketAddress to) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                return connection.migrate(to).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                boolean early = e.getCause() instanceof MigrationException refused
                        && refused.reason() == MigrationException.Reason.HANDSHAKE_NOT_CONFIRMED;
                if (!early || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }
}
