package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * RFC 9000 12.2: "if decryption fails (because the keys are not available or for any other reason), the receiver
 * MAY either discard or buffer the packet for later processing and MUST attempt to process the remaining packets."
 * Kwik alone drops the whole datagram when its first packet is a Handshake packet whose keys it has discarded; after
 * a handshake that loses a client's first 1-RTT packet when it travels with the client's last Handshake ACK.
 */
class CoalescedPacketsTest {

    private static final int CONNECTION_ID_LENGTH = 8; // what both ends issue (KwikServer, Kwik's client default)

    @Test
    void oneRttPacketsBehindAHandshakePacketWithDiscardedKeysAreProcessedByBothEnds() throws Exception {
        try (MigrationServer server = ClientMigrationTest.startServer();
             RebindingRelay relay = new RebindingRelay(server.localAddress(), InetAddress.getByName("127.0.0.1"));
             MigratingConnection connection = Echo.client(server).server(relay.address()).build().connect()) {
            byte[] warmUp = Echo.randomBytes(10_000, 1);
            assertThat(Echo.exchange(connection, warmUp)).isEqualTo(Echo.sha256(warmUp));
            Await.until(() -> connection.diagnostics().handshakeConfirmed(), 5_000, "the handshake is confirmed, Handshake keys gone");

            AtomicInteger prefixed = new AtomicInteger();
            relay.prefixShortHeaderDatagrams(datagram -> {
                prefixed.incrementAndGet();
                return handshakePacketFor(datagram);
            });
            byte[] data = Echo.randomBytes(300_000, 2);
            CompletableFuture<byte[]> echoed = Echo.exchangeAsync(connection, data);

            assertThat(echoed.get(20, TimeUnit.SECONDS)).as("SHA-256 of 300 KB echoed, every datagram of it behind "
                    + "a Handshake packet").isEqualTo(Echo.sha256(data));
            assertThat(prefixed.get()).as("datagrams that carried a Handshake packet first").isGreaterThan(100);
            assertThat(relay.failure()).isNull();
        }
    }

    /**
     * A version 1 Handshake packet to the same connection ID as the 1-RTT packet in {@code datagram}; its protected
     * payload is noise, but the receiver looks for keys it discarded before it gets that far.
     */
    private static byte[] handshakePacketFor(byte[] datagram) {
        int payload = 40;
        byte[] packet = new byte[1 + 4 + 1 + CONNECTION_ID_LENGTH + 1 + 2 + payload];
        int at = 0;
        packet[at++] = (byte) 0xe1; // long header, fixed bit, type 2 (Handshake), 2-byte packet number
        packet[at++] = 0;
        packet[at++] = 0;
        packet[at++] = 0;
        packet[at++] = 1;
        packet[at++] = CONNECTION_ID_LENGTH;
        System.arraycopy(datagram, 1, packet, at, CONNECTION_ID_LENGTH);
        at += CONNECTION_ID_LENGTH;
        packet[at++] = 0; // no source connection ID
        packet[at++] = (byte) (0x40 | (payload >> 8));
        packet[at++] = (byte) payload;
        for (int i = 0; i < payload; i++) {
            packet[at++] = (byte) (i * 37);
        }
        return packet;
    }
}
