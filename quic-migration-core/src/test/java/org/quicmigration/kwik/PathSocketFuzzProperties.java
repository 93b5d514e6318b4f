package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.quicmigration.Fuzz;

/**
 * The socket layers' reading of datagram headers on their receive path, over real UDP on loopback: datagrams of 0 to
 * 1,600 bytes (coalesced long-header packets of every version and type, short headers with any destination ID,
 * damaged, noise) reach {@link ServerPathSocket#receive} and {@link ClientPathSocket#receive} as Kwik calls them,
 * with Kwik's 1,500-byte buffer. Every datagram is handed on whole (cut to the buffer), in one piece or split after
 * its Handshake packet, from the address Kwik knows; the server looks up the destination ID of each short-header
 * datagram; nothing throws and nothing waits past a deadline.
 */
class PathSocketFuzzProperties {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int KWIK_BUFFER = 1500;
    private static final int ID_LENGTH = 8;

    @Property(tries = 25, edgeCases = EdgeCasesMode.NONE)
    void theServerSocketHandsEveryDatagramOnWhole(@ForAll("batches") List<byte[]> datagrams) throws Exception {
        List<String> looked = Collections.synchronizedList(new ArrayList<>());
        try (ServerPathSocket socket = new ServerPathSocket(new InetSocketAddress(LOOPBACK, 0), ID_LENGTH, true, id -> {
                 looked.add(HexFormat.of().formatHex(id));
                 return null;
             });
             DatagramSocket peer = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            socket.setSoTimeout((int) Fuzz.DEADLINE_MILLIS);
            for (byte[] datagram : datagrams) {
                peer.send(new DatagramPacket(datagram, datagram.length, socket.getLocalSocketAddress()));
                byte[] delivered = receiveWhole(datagram, () -> {
                    DatagramPacket packet = new DatagramPacket(new byte[KWIK_BUFFER], KWIK_BUFFER);
                    socket.receive(packet);
                    assertThat(packet.getSocketAddress()).as("source of a datagram").isEqualTo(peer.getLocalSocketAddress());
                    return packet;
                });
                assertThat(delivered).as("what Kwik got of %s", hex(datagram)).isEqualTo(cut(datagram));
                if (datagram.length >= 1 + ID_LENGTH && (datagram[0] & 0x80) == 0) {
                    assertThat(looked).as("destination IDs looked up")
                            .contains(hex(Arrays.copyOfRange(datagram, 1, 1 + ID_LENGTH)));
                }
            }
        }
    }

    @Property(tries = 25, edgeCases = EdgeCasesMode.NONE)
    void theClientSocketHandsEveryDatagramOnWhole(@ForAll("batches") List<byte[]> datagrams) throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            InetSocketAddress serverAddress = (InetSocketAddress) server.getLocalSocketAddress();
            ClientPathSocket socket = new ClientPathSocket(new InetSocketAddress(LOOPBACK, 0), serverAddress, () -> { });
            try {
                for (byte[] datagram : datagrams) {
                    server.send(new DatagramPacket(datagram, datagram.length, socket.activeLocal()));
                    byte[] delivered = receiveWhole(datagram, () -> {
                        DatagramPacket packet = new DatagramPacket(new byte[KWIK_BUFFER], KWIK_BUFFER);
                        socket.receive(packet);
                        assertThat(packet.getSocketAddress()).as("source of a datagram").isEqualTo(serverAddress);
                        return packet;
                    });
                    assertThat(delivered).as("what Kwik got of %s", hex(datagram)).isEqualTo(cut(datagram));
                }
            } finally {
                socket.close();
            }
        }
    }

    private interface Receive {
        DatagramPacket next() throws Exception;
    }

    /** Receives pieces until they add up to the datagram (as cut to Kwik's buffer), each within the deadline. */
    private static byte[] receiveWhole(byte[] datagram, Receive receive) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        int pieces = 0;
        do {
            DatagramPacket piece = Fuzz.run(receive::next).failedOnlyWith().value();
            joined.write(piece.getData(), piece.getOffset(), piece.getLength());
            assertThat(++pieces).as("pieces of a %d-byte datagram", datagram.length).isLessThanOrEqualTo(Math.max(1, datagram.length));
        } while (joined.size() < cut(datagram).length);
        return joined.toByteArray();
    }

    private static byte[] cut(byte[] datagram) {
        return Arrays.copyOf(datagram, Math.min(datagram.length, KWIK_BUFFER));
    }

    @Provide
    Arbitrary<List<byte[]>> batches() {
        Arbitrary<byte[]> shortHeaders = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(1600).map(bytes -> {
            bytes[0] &= 0x7f;
            return bytes;
        });
        Arbitrary<byte[]> datagram = Arbitraries.oneOf(new CoalescedRestFuzzProperties().datagrams(), shortHeaders,
                Fuzz.noise(8));
        return datagram.list().ofMinSize(1).ofMaxSize(12);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
