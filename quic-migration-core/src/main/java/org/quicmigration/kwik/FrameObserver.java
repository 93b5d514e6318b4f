package org.quicmigration.kwik;

import java.time.Instant;
import java.util.List;
import java.util.function.Function;

import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.StreamDataBlockedFrame;
import tech.kwik.core.log.Logger;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.QuicPacket;

/**
 * Internal: Kwik's logger hook, used to see decrypted frames. Kwik calls {@link #received} on its receiver
 * thread for every packet, after decryption and before processing; this must stay cheap and must never throw.
 * Everything else is forwarded to a delegate logger (a no-op unless Kwik debugging is on).
 */
final class FrameObserver extends NullLogger {

    private final Logger delegate;
    private final Function<byte[], KwikConnection> connectionForDestination;

    /**
     * @param connectionForDestination finds the connection by the packet's destination CID (server side), or
     *                                 ignores the CID (client side); returns null if unknown
     */
    FrameObserver(Logger delegate, Function<byte[], KwikConnection> connectionForDestination) {
        this.delegate = delegate;
        this.connectionForDestination = connectionForDestination;
    }

    @Override
    public void received(Instant time, int datagram, QuicPacket packet) {
        delegate.received(time, datagram, packet);
        try {
            List<QuicFrame> frames = packet.getFrames();
            for (int i = 0, n = frames.size(); i < n; i++) {
                QuicFrame frame = frames.get(i);
                if (frame instanceof DataBlockedFrame blocked) {
                    KwikConnection connection = connectionForDestination.apply(packet.getDestinationConnectionId());
                    if (connection != null) {
                        connection.stallGuard().peerDataBlocked(blocked);
                    }
                } else if (frame instanceof StreamDataBlockedFrame blocked) {
                    KwikConnection connection = connectionForDestination.apply(packet.getDestinationConnectionId());
                    if (connection != null) {
                        connection.stallGuard().peerStreamDataBlocked(blocked);
                    }
                } else if (frame instanceof PathResponseFrame response) {
                    ClientMigrationDriver driver = driverFor(packet);
                    if (driver != null) {
                        driver.onPathResponse(response);
                    }
                } else if (frame instanceof NewConnectionIdFrame newId) {
                    ClientMigrationDriver driver = driverFor(packet);
                    if (driver != null) {
                        driver.onNewConnectionId(newId);
                    }
                }
            }
        } catch (RuntimeException e) {
            // Observation must never disturb Kwik's receiver thread.
        }
    }

    private ClientMigrationDriver driverFor(QuicPacket packet) {
        KwikConnection connection = connectionForDestination.apply(packet.getDestinationConnectionId());
        return connection == null ? null : connection.migrationDriver();
    }

    @Override
    public void sent(Instant time, QuicPacket packet) {
        delegate.sent(time, packet);
    }

    @Override
    public void sent(Instant time, List<QuicPacket> packets) {
        delegate.sent(time, packets);
    }

    @Override
    public void info(String message) {
        delegate.info(message);
    }

    @Override
    public void warn(String message) {
        delegate.warn(message);
    }

    @Override
    public void error(String message) {
        delegate.error(message);
    }

    @Override
    public void error(String message, Throwable error) {
        delegate.error(message, error);
    }

    @Override
    public void debug(String message) {
        delegate.debug(message);
    }
}
