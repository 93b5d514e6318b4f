package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;

import org.quicmigration.core.ConnectionId;

/**
 * Internal: {@link ClientPathSocket}'s route table, which path each destination connection ID leaves on (RFC 9000
 * 9.5: an ID is never used from two local addresses). Changed on the thread that moves the connection (copy on
 * write, under this object's lock); read without a lock on Kwik's sender thread, for every datagram, and on any
 * other. No allocation on reads.
 */
final class PathRoutes {

    /** The usual destination ID length, for a datagram no route knows. */
    private static final int DEFAULT_ID_LENGTH = 8;

    /** A destination connection ID and the path it belongs to. */
    private record Route(ConnectionId destination, DatagramChannel channel, InetSocketAddress local) {
    }

    private volatile Route[] routes = new Route[0];

    /** Sends datagrams whose destination ID is {@code destination} on {@code channel}, the path of {@code local}. */
    synchronized void route(ConnectionId destination, DatagramChannel channel, InetSocketAddress local) {
        Route[] current = routes;
        Route[] next = new Route[current.length + 1];
        int n = 0;
        for (Route route : current) {
            if (!route.destination().equals(destination)) {
                next[n++] = route;
            }
        }
        next[n++] = new Route(destination, channel, local);
        routes = java.util.Arrays.copyOf(next, n);
    }

    /** Forgets every route to {@code channel}. */
    synchronized void forget(DatagramChannel channel) {
        routes = java.util.Arrays.stream(routes).filter(route -> route.channel() != channel).toArray(Route[]::new);
    }

    int size() {
        return routes.length;
    }

    /** The channel of the short-header packet at {@code offset}, by its destination ID; null if none is routed. */
    DatagramChannel channelFor(byte[] data, int offset, int length) {
        if (length > 0 && (data[offset] & 0x80) == 0) {
            // Short header (RFC 9000 17.3): the destination connection ID starts right after the first byte.
            for (Route route : routes) {
                if (route.destination().matches(data, offset + 1)) {
                    return route.channel();
                }
            }
        }
        return null;
    }

    /** The length of the destination ID of the short-header packet at {@code offset}, from the route table. */
    int destinationIdLength(byte[] data, int offset) {
        Route[] known = routes;
        for (Route route : known) {
            if (route.destination().matches(data, offset + 1)) {
                return route.destination().length();
            }
        }
        return known.length > 0 ? known[0].destination().length() : DEFAULT_ID_LENGTH;
    }

    /** The destination ID of the datagram at {@code offset}, for traces; null for a long header. */
    ConnectionId destinationOf(byte[] data, int offset, int length) {
        ConnectionId destination = null;
        if (length > 0 && (data[offset] & 0x80) == 0) {
            for (Route route : routes) {
                if (route.destination().matches(data, offset + 1)) {
                    destination = route.destination();
                    break;
                }
            }
            if (destination == null) {
                // Unknown to the route table: report the bytes at the DCID position, with the usual length.
                int idLength = routes.length > 0 ? routes[0].destination().length() : DEFAULT_ID_LENGTH;
                destination = ConnectionId.of(data, offset + 1, Math.min(idLength, length - 1));
            }
        }
        return destination;
    }

    /** The destination ID {@code channel} was last routed with, or null. */
    byte[] newestIdOf(DatagramChannel channel) {
        byte[] id = null;
        for (Route route : routes) {
            if (route.channel() == channel) {
                id = route.destination().bytes(); // the newest route of the path comes last
            }
        }
        return id;
    }
}
