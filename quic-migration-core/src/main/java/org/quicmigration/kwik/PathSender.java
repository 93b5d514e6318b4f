package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * Internal: the sending half of {@link ClientPathSocket}: each datagram Kwik sends leaves on the path its
 * destination connection ID is routed to ({@link PathRoutes}), or on the active path, sealed again first if it
 * carries a validate-first challenge ({@link ClientProbeResealing}); a send error marks the path failed instead of
 * reaching Kwik. Kwik's sender thread is the only caller of {@link #send}. No allocation per datagram.
 */
final class PathSender {

    private static final int BUFFER_SIZE = 65_536;

    private final ClientPathSocket socket;
    private final PathRoutes routes;
    private final PathFailures failures;
    private final Runnable onPortUnreachable;
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private final ClientProbeResealing reseals = new ClientProbeResealing();
    private volatile WireTrace trace;
    /** The channel of the last datagram sent; written and read on Kwik's sender thread only. */
    private DatagramChannel lastSentOn;

    /**
     * @param socket the socket this sends for: its active path, its paths' addresses and counters
     */
    PathSender(ClientPathSocket socket, PathRoutes routes, PathFailures failures, Runnable onPortUnreachable) {
        this.socket = socket;
        this.routes = routes;
        this.failures = failures;
        this.onPortUnreachable = onPortUnreachable;
    }

    void trace(WireTrace trace) {
        this.trace = trace;
    }

    /** Lets {@link #send} seal validate-first challenges again (see {@link ProbeResealer}). */
    void resealProbesWith(ProbeResealer resealer) {
        reseals.use(resealer);
    }

    /** The channel of the last datagram sent, or null; Kwik's sender thread, after the send. */
    DatagramChannel lastSentOn() {
        return lastSentOn;
    }

    /**
     * The packet that left instead of {@code sent} if {@link #send} sealed it again, else {@code sent}; call on
     * Kwik's sender thread, after the send.
     */
    tech.kwik.core.packet.QuicPacket sentInstead(tech.kwik.core.packet.QuicPacket sent) {
        return reseals.sentInstead(sent);
    }

    void send(DatagramPacket packet) throws IOException {
        byte[] data = packet.getData();
        int offset = packet.getOffset();
        int length = packet.getLength();
        byte[] resealed = reseals.resealed(data, offset, length, routes);
        if (resealed != null) {
            data = resealed;
            offset = 0;
            length = data.length;
        }
        DatagramChannel routed = routes.channelFor(data, offset, length);
        DatagramChannel channel = routed != null ? routed : socket.activeChannel();
        lastSentOn = channel;
        WireTrace tracing = trace;
        if (tracing != null) {
            tracing.datagramSent(socket.boundAddressOf(channel), routes.destinationOf(data, offset, length), length);
        }
        synchronized (sendBuffer) {
            sendBuffer.clear();
            sendBuffer.put(data, offset, length).flip();
            try {
                socket.countSent(channel);
                channel.write(sendBuffer);
                failures.sent(channel);
            } catch (PortUnreachableException e) {
                onPortUnreachable.run();
            } catch (java.nio.channels.ClosedChannelException e) {
                // The path was closed after Kwik built this packet for it; like a datagram lost on a dead path,
                // it is declared lost and retransmitted on the active path.
            } catch (IOException e) {
                // The OS took the path away: its address was removed (EADDRNOTAVAIL), its route or link went
                // (ENETUNREACH, EHOSTUNREACH) or a firewall refused the datagram (EPERM). Kwik's sender closes the
                // whole connection on any exception, so the datagram counts as sent and lost instead: Kwik's loss
                // recovery resends its frames, on whichever path the connection uses by then (W18,
                // docs/kwik-workarounds.md#w18).
                failures.failed(channel, e);
            }
        }
    }
}
