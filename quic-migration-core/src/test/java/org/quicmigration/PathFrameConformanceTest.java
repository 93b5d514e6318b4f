package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RFC 9000 8.2 on the wire, checked on the packet trace of real migrations on loopback: where path frames leave,
 * how large their datagrams are, and how soon.
 */
class PathFrameConformanceTest {

    /**
     * RFC 9000 8.2.2: "A PATH_RESPONSE frame MUST be sent on the network path where the PATH_CHALLENGE frame was
     * received." After a move the server also challenges the path the client left (9.3.3), which reaches the
     * client's old socket while it is still open: the answer leaves from there, not from the new path.
     */
    @ParameterizedTest
    @EnumSource(MigrationStrategy.class)
    void everyChallengeIsAnsweredOnThePathItArrivedOn(MigrationStrategy strategy) throws Exception {
        List<PacketEvent> packets = new CopyOnWriteArrayList<>();
        try (MigrationServer server = ClientMigrationTest.startServer();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .packetListener(packets::add).build().connect()) {
            awaitSpare(connection);
            byte[] before = Echo.randomBytes(200_000, 7);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));

            connection.migrate(new InetSocketAddress(CELLULAR, 0), strategy).get(10, TimeUnit.SECONDS);
            byte[] after = Echo.randomBytes(200_000, 8);
            assertThat(Echo.exchange(connection, after)).as("SHA-256 after the move").isEqualTo(Echo.sha256(after));

            Await.until(() -> !challengesReceived(packets, WIFI).isEmpty(), 5_000,
                    "the server challenges the path the client left (RFC 9000 9.3.3)");
            List<PacketEvent> challenges = challengesReceived(packets, null);
            for (PacketEvent challenge : challenges) {
                String data = challenge.frame("path_challenge").orElseThrow().field("data");
                Await.until(() -> packets.stream().anyMatch(p -> isResponse(p, data)), 5_000,
                        "a PATH_RESPONSE to " + data);
                assertThat(packets).filteredOn(p -> isResponse(p, data)).as("PATH_RESPONSE to the challenge "
                        + data + " received on " + challenge.path()).allSatisfy(response ->
                        assertThat(response.path().local()).isEqualTo(challenge.path().local()));
            }
        }
    }

    /**
     * RFC 9000 8.2.1: "An endpoint MUST expand datagrams that contain a PATH_CHALLENGE frame to at least the smallest
     * allowed maximum datagram size of 1200 bytes, unless the anti-amplification limit for the path does not permit
     * sending a datagram of this size", and 8.2.2 the same for PATH_RESPONSE. The server's budget on a path is three
     * times what it received there (8, 9.3) minus what it sent; a smaller path datagram needs a smaller budget.
     */
    @ParameterizedTest
    @EnumSource(MigrationStrategy.class)
    void theServerPadsPathFramesToTwelveHundredBytesWheneverItsBudgetAllows(MigrationStrategy strategy)
            throws Exception {
        List<PacketEvent> serverPackets = new CopyOnWriteArrayList<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = ClientMigrationTest.startServer(accepted);
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .build().connect()) {
            awaitSpare(connection);
            accepted.first().addPacketListener(serverPackets::add);
            byte[] before = Echo.randomBytes(200_000, 9);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));

            connection.migrate(new InetSocketAddress(CELLULAR, 0), strategy).get(10, TimeUnit.SECONDS);
            byte[] after = Echo.randomBytes(200_000, 10);
            assertThat(Echo.exchange(connection, after)).as("SHA-256 after the move").isEqualTo(Echo.sha256(after));
            Await.until(() -> serverPackets.stream().anyMatch(p -> p.direction() == PacketEvent.Direction.SENT
                    && p.path().remote().getAddress().equals(CELLULAR) && isPathFrame(p)), 5_000,
                    "the server sends a path frame to the new address");

            java.util.Map<InetSocketAddress, long[]> received = new java.util.HashMap<>(); // per client address
            java.util.Map<InetSocketAddress, long[]> sent = new java.util.HashMap<>();
            java.util.Map<InetSocketAddress, List<String>> history = new java.util.HashMap<>(); // for failures
            for (PacketEvent packet : List.copyOf(serverPackets)) {
                InetSocketAddress client = packet.path().remote();
                List<String> seen = history.computeIfAbsent(client, c -> new java.util.ArrayList<>());
                if (seen.size() < 12) {
                    seen.add(packet.time() + " " + packet.direction() + " " + packet.size() + " " + packet.frameTypes());
                }
                if (packet.direction() == PacketEvent.Direction.RECEIVED) {
                    received.computeIfAbsent(client, c -> new long[1])[0] += packet.size();
                    continue;
                }
                long budget = 3 * received.getOrDefault(client, new long[1])[0]
                        - sent.getOrDefault(client, new long[1])[0];
                if (isPathFrame(packet) && budget >= 1200) {
                    assertThat(packet.size()).as("size of " + packet.frameTypes() + " to " + client
                            + " with a budget of " + budget + " bytes; the server's first packets with " + client
                            + ": " + seen).isGreaterThanOrEqualTo(1200);
                }
                sent.computeIfAbsent(client, c -> new long[1])[0] += packet.size();
            }
        }
    }

    /**
     * RFC 9000 8.2.1: "When an endpoint is unable to expand the datagram size to 1200 bytes due to the
     * anti-amplification limit, the path MTU will not be validated. To ensure that the path MTU is large enough, the
     * endpoint MUST perform a second path validation by sending a PATH_CHALLENGE frame in a datagram of at least 1200
     * bytes." A NAT rebinding of an idle client whose first datagram from the new port is a small one: the first
     * challenge is small, so a full-size one must follow.
     */
    @org.junit.jupiter.api.Test
    void aPathFirstChallengedInASmallDatagramIsChallengedAgainAtFullSize() throws Exception {
        List<PacketEvent> serverPackets = new CopyOnWriteArrayList<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().onConnection(accepted).start();
             RebindingRelay nat = new RebindingRelay(server.localAddress(), Echo.LOOPBACK);
             MigratingConnection connection = Echo.client(server).server(nat.address()).build().connect()) {
            byte[] before = Echo.randomBytes(100_000, 11);
            assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
            accepted.first().addPacketListener(serverPackets::add);

            nat.rebind(Echo.LOOPBACK);
            InetSocketAddress rebound = nat.outsideAddress();
            byte[] small = Echo.randomBytes(10, 12);
            assertThat(Echo.exchange(connection, small)).as("SHA-256 after the rebinding").isEqualTo(Echo.sha256(small));

            Await.until(() -> challengesTo(serverPackets, rebound).stream().anyMatch(p -> p.size() >= 1200), 5_000,
                    "a PATH_CHALLENGE of at least 1200 bytes to " + rebound + "; sent: "
                            + challengesTo(serverPackets, rebound).stream().map(PacketEvent::size).toList());
            assertThat(challengesTo(serverPackets, rebound).get(0).size())
                    .as("the first challenge, limited by the budget of a small datagram").isLessThan(1200);
        }
    }

    private static List<PacketEvent> challengesTo(List<PacketEvent> packets, InetSocketAddress client) {
        return packets.stream().filter(p -> p.direction() == PacketEvent.Direction.SENT
                && p.path().remote().equals(client) && p.frame("path_challenge").isPresent()).toList();
    }

    private static boolean isPathFrame(PacketEvent packet) {
        return packet.frame("path_challenge").isPresent() || packet.frame("path_response").isPresent();
    }

    private static List<PacketEvent> challengesReceived(List<PacketEvent> packets, java.net.InetAddress local) {
        return packets.stream().filter(p -> p.direction() == PacketEvent.Direction.RECEIVED
                        && p.frame("path_challenge").isPresent()
                        && (local == null || p.path().local().getAddress().equals(local)))
                .toList();
    }

    private static boolean isResponse(PacketEvent packet, String data) {
        return packet.direction() == PacketEvent.Direction.SENT && packet.frame("path_response")
                .map(frame -> frame.field("data").equals(data)).orElse(false);
    }
}
