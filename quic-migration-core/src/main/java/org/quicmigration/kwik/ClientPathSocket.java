package org.quicmigration.kwik;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketException;

/**
 * Internal: the UDP socket a Kwik client connection uses. It is connected to the server, so that the kernel
 * reports ICMP "port unreachable" (nothing listens there) instead of leaving the handshake to time out, and it
 * sends every datagram to the server address we resolved, whatever name Kwik was given for TLS.
 *
 * <p>Kwik's receiver thread is the only caller of {@link #receive}; Kwik's sender thread the only caller of
 * {@link #send}.
 */
final class ClientPathSocket extends DatagramSocket {

    private final InetSocketAddress server;
    private final Runnable onPortUnreachable;

    ClientPathSocket(InetSocketAddress local, InetSocketAddress server, Runnable onPortUnreachable)
            throws SocketException {
        super(local);
        this.server = server;
        this.onPortUnreachable = onPortUnreachable;
        connect(server);
    }

    @Override
    public void send(DatagramPacket packet) throws IOException {
        if (!server.equals(packet.getSocketAddress())) {
            packet.setSocketAddress(server);
        }
        try {
            super.send(packet);
        } catch (PortUnreachableException e) {
            // An earlier datagram bounced; the receive side reports it. Sending is best effort, as in UDP.
            onPortUnreachable.run();
        }
    }

    @Override
    public void receive(DatagramPacket packet) throws IOException {
        while (true) {
            try {
                super.receive(packet);
                return;
            } catch (PortUnreachableException e) {
                onPortUnreachable.run();
            }
        }
    }
}
