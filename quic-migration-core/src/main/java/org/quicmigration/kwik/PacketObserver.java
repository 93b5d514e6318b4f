package org.quicmigration.kwik;

import org.quicmigration.core.trace.TracedPacket;

/**
 * Internal: receives every packet a connection sends or receives while it is set. Called on Kwik's sender and
 * receiver threads: implementations hand off and return at once, and never throw.
 */
@FunctionalInterface
public interface PacketObserver {

    void packet(TracedPacket packet);
}
