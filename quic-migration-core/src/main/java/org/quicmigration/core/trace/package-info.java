/**
 * Internal: what one QUIC packet looked like on the wire, as plain values. The engine binding produces these for
 * every packet sent or received while someone listens; the public packet listener and the qlog writer consume them.
 */
package org.quicmigration.core.trace;
