package org.quicmigration.kwik;

import tech.kwik.core.impl.TransportError;
import tech.kwik.core.packet.PacketFilter;
import tech.kwik.core.packet.PacketMetaData;
import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.packet.ShortHeaderPacket;

/**
 * Internal: a link in Kwik's per-connection packet chain, after duplicates are dropped and before frames are
 * processed. It reports every new 1-RTT packet, with the source the socket layer tagged it with, to the
 * connection's {@link ServerMigrationDriver} (W17, docs/kwik-workarounds.md#w17). Runs on the connection's packet thread; never throws into Kwik.
 */
final class PathAttributionFilter implements PacketFilter {

    private static final System.Logger LOG = System.getLogger(PathAttributionFilter.class.getName());

    private final ServerMigrationDriver driver;
    private final PacketFilter next;

    PathAttributionFilter(ServerMigrationDriver driver, PacketFilter next) {
        this.driver = driver;
        this.next = next;
    }

    @Override
    public void processPacket(QuicPacket packet, PacketMetaData metaData) throws TransportError {
        if (packet instanceof ShortHeaderPacket && metaData.sourceAddress() != null) {
            try {
                if (!driver.onPacket(packet, metaData.sourceAddress().getAddress(), System.nanoTime(),
                        metaData.timeReceived())) {
                    return; // its path can no longer be told; treated as lost
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "server path handling failed; packet processed without it", e);
            }
        }
        next.processPacket(packet, metaData);
    }
}
