package org.quicmigration;

/**
 * Receives every packet a connection sends and receives (see {@link PacketEvent}). Called in order on the same
 * library thread as {@link MigrationListener}s, never on a network thread, so a packet trace and migration events
 * interleave as they happened. A slow listener delays later events, not the connection. While no packet listener
 * and no qlog is set, tracing costs the connection one volatile read per packet.
 */
@FunctionalInterface
public interface PacketListener {

    /**
     * Called for each packet sent or received.
     *
     * @param event the packet
     */
    void onPacket(PacketEvent event);
}
