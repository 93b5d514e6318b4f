package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Stateless resets (RFC 9000 10.3) for the connection IDs a migration moved to: the token that counts is the one the
 * server gave with the ID in use, whichever ID that is after the move.
 */
class StatelessResetTest {

    @Test
    void aStatelessResetWithTheTokenOfTheIdInUseAfterAMigrationEndsTheConnection() throws Exception {
        Map<String, String> tokens = new ConcurrentHashMap<>(); // connection ID -> stateless reset token, in hex
        try (MigrationServer server = ClientMigrationTest.startServer();
             LossyRelay relay = new LossyRelay(server.localAddress(), 0, 1);
             MigratingConnection connection = connectThrough(server, relay, tokens)) {
            awaitSpare(connection);
            connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
            byte[] data = Echo.randomBytes(50_000, 31);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data)); // the relay now knows cellular
            String inUse = connection.destinationConnectionId();
            assertThat(tokens).as("the server gave the ID in use with a token").containsKey(inUse);

            // RFC 9000 10.3: "an endpoint that receives ... a datagram whose trailing 16 bytes ... [match a] stateless
            // reset token ... MUST enter the draining period and not send any further packets on this connection".
            relay.sendToClient(statelessReset(tokens.get(inUse)));

            Await.until(() -> !connection.isOpen(), 5_000, "the connection ends on the stateless reset");
            assertThatThrownBy(connection::openStream).isInstanceOfSatisfying(ConnectionClosedException.class,
                    closed -> assertThat(closed.reason()).isEqualTo(ConnectionClosedException.Reason.STATELESS_RESET));
        }
    }

    @Test
    void aStatelessResetWithTheTokenOfASpareIdIsIgnored() throws Exception {
        Map<String, String> tokens = new ConcurrentHashMap<>();
        try (MigrationServer server = ClientMigrationTest.startServer();
             LossyRelay relay = new LossyRelay(server.localAddress(), 0, 2);
             MigratingConnection connection = connectThrough(server, relay, tokens)) {
            awaitSpare(connection);
            byte[] before = Echo.randomBytes(20_000, 32);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
            List<String> spares = tokens.keySet().stream().filter(id -> !id.equals(connection.destinationConnectionId()))
                    .toList();
            assertThat(spares).as("spare IDs the server gave").isNotEmpty();

            // RFC 9000 10.3.1: "An endpoint MUST NOT check for any stateless reset tokens associated with connection
            // IDs it has not used or for connection IDs that have been retired."
            relay.sendToClient(statelessReset(tokens.get(spares.get(0))));

            byte[] after = Echo.randomBytes(20_000, 33);
            assertThat(Echo.exchange(connection, after)).as("the connection goes on").isEqualTo(Echo.sha256(after));
            assertThat(connection.isOpen()).isTrue();
        }
    }

    /** A client on Wi-Fi, through {@code relay}, that puts each connection ID the server gives with its token. */
    private static MigratingConnection connectThrough(MigrationServer server, LossyRelay relay,
                                                      Map<String, String> tokens) throws Exception {
        return Echo.client(server).server(relay.address()).localAddress(new InetSocketAddress(WIFI, 0))
                .packetListener(packet -> packet.frames().stream()
                        .filter(frame -> frame.type().equals("new_connection_id"))
                        .forEach(frame -> tokens.put(frame.field("connection_id"), frame.field("stateless_reset_token"))))
                .build().connect();
    }

    /** A datagram that looks like a short-header packet and ends with {@code token} (RFC 9000 10.3). */
    private static byte[] statelessReset(String token) {
        byte[] datagram = new byte[43];
        new SecureRandom().nextBytes(datagram);
        datagram[0] = (byte) (0x40 | (datagram[0] & 0x3f)); // "0b01": the fixed bit set, a short header
        byte[] tokenBytes = HexFormat.of().parseHex(token);
        System.arraycopy(tokenBytes, 0, datagram, datagram.length - tokenBytes.length, tokenBytes.length);
        return datagram;
    }
}
