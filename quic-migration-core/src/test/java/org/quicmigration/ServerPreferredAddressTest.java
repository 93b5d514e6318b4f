package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server's preferred_address (RFC 9000 9.6) with real UDP on loopback: the server listens on 127.0.0.1 and
 * offers 127.0.0.4; our client moves there after the handshake.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ServerPreferredAddressTest {

    private static final InetAddress PREFERRED = address("127.0.0.4");
    private static final InetAddress CELLULAR = address("127.0.0.3");

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path qlogDirectory;

    @Test
    void aClientMovesToThePreferredAddressValidatedFirstAndKeepsEveryByte() throws Exception {
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        CompletableFuture<MigratingConnection> serverSide = new CompletableFuture<>();
        try (MigrationServer server = Echo.serverBuilder()
                .preferredAddress(new InetSocketAddress(PREFERRED, 0), null)
                .qlogDirectory(qlogDirectory)
                .migrationListener(serverEvents::add)
                .onConnection(c -> {
                    serverSide.complete(c);
                    Echo.serve(c);
                }).start();
             MigratingConnection connection = Echo.client(server).build().connect()) {
            InetSocketAddress preferred = server.preferredAddresses().get(0);
            assertThat(preferred.getAddress()).isEqualTo(PREFERRED);
            assertThat(preferred.getPort()).isPositive();

            byte[] data = Echo.randomBytes(4 * 1024 * 1024, 96);
            assertThat(Echo.exchange(connection, data)).as("SHA-256 of 4 MB echoed").isEqualTo(Echo.sha256(data));

            Await.until(() -> connection.peerAddress().equals(preferred), 5_000,
                    "the client sends to the preferred address " + preferred + ", not " + connection.peerAddress());
            MigratingConnection onServer = serverSide.get(5, TimeUnit.SECONDS);
            Await.until(() -> onServer.localAddress().equals(preferred), 5_000,
                    "the server sends from its preferred address, not " + onServer.localAddress());
            assertThat(onServer.peerAddress()).isEqualTo(connection.localAddress());
            // RFC 9000 9.6.2: the server validated the path before it moved, so it never sent data on it unvalidated.
            Await.until(() -> serverEvents.stream().anyMatch(e -> e instanceof MigrationEvent.MigrationCompleted
                    && e.path().local().equals(preferred)), 5_000, "a MigrationCompleted event on the preferred address");
            int validated = indexOf(serverEvents, MigrationEvent.PathValidated.class, preferred);
            assertThat(validated).as("server validated the preferred path").isNotNegative();
            assertThat(indexOf(serverEvents, MigrationEvent.MigrationStarted.class, preferred))
                    .as("no unvalidated move to the preferred address: it starts after the validation")
                    .isGreaterThan(validated);

            // The preferred address used connection ID 1; the server must have issued a spare one (the limit it
            // lowered during the handshake is back), so the client can still migrate actively.
            MigrationResult moved = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
            assertThat(moved.newPath().remote()).isEqualTo(preferred);
            byte[] more = Echo.randomBytes(1024 * 1024, 97);
            assertThat(Echo.exchange(connection, more)).isEqualTo(Echo.sha256(more));
            Await.until(() -> onServer.peerAddress().getAddress().equals(CELLULAR), 5_000,
                    "the server follows the client to " + CELLULAR + " on its preferred address");
            assertThat(onServer.localAddress()).isEqualTo(preferred);

            // Path history, both sides: the handshake's path, the preferred address, then cellular.
            Await.until(() -> onServer.pathHistory().size() == 3, 5_000, "three paths on the server: " + onServer.pathHistory());
            assertThat(onServer.pathHistory()).extracting(p -> p.local().getAddress())
                    .containsExactly(server.localAddress().getAddress(), PREFERRED, PREFERRED);
            assertThat(onServer.pathHistory().get(2).remote().getAddress()).isEqualTo(CELLULAR);
            assertThat(connection.pathHistory()).extracting(p -> p.remote())
                    .containsExactly(server.localAddress(), preferred, preferred);
            assertThat(connection.pathHistory().get(2).local().getAddress()).isEqualTo(CELLULAR);

            // The server's qlog says what it offered: parameters_set, initiator local, with the preferred address.
            java.nio.file.Path qlog = onServer.qlogFile().orElseThrow();
            java.util.regex.Pattern offered = java.util.regex.Pattern.compile("\"initiator\":\\s*\"local\".*"
                    + "\"preferred_address\":\\s*\\{\"ip_v4\":\\s*\"127\\.0\\.0\\.4\",\\s*\"port_v4\":\\s*"
                    + preferred.getPort() + ",\\s*\"connection_id\":\\s*\"\\p{XDigit}{16}\"");
            Await.until(() -> read(qlog).lines().anyMatch(line -> offered.matcher(line).find()), 5_000,
                    "the server's qlog has its preferred_address in a local parameters_set: " + qlog);
        }
    }

    @Test
    void aClientThatDoesNotFollowStaysOnTheOriginalAddress() throws Exception {
        try (MigrationServer server = Echo.serverBuilder()
                .preferredAddress(new InetSocketAddress(PREFERRED, 0), null).start();
             MigratingConnection connection = Echo.client(server).followPreferredAddress(false).build().connect()) {
            byte[] data = Echo.randomBytes(1024 * 1024, 98);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            assertThat(connection.peerAddress()).isEqualTo(server.localAddress());

            // Its spare connection ID may be the preferred address's one: an active migration still works.
            connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
            byte[] more = Echo.randomBytes(512 * 1024, 99);
            assertThat(Echo.exchange(connection, more)).isEqualTo(Echo.sha256(more));
        }
    }

    @Test
    void preferredAddressesMustBeConcreteAndOfTheirFamily() {
        MigrationServer.Builder builder = MigrationServer.builder();
        assertThatThrownBy(() -> builder.preferredAddress(null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.preferredAddress(new InetSocketAddress("0.0.0.0", 4433), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wildcard");
        assertThatThrownBy(() -> builder.preferredAddress(new InetSocketAddress("::1", 4433), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IPv4");
        assertThatThrownBy(() -> builder.preferredAddress(null, new InetSocketAddress("127.0.0.4", 4433)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IPv6");
    }

    private static int indexOf(List<MigrationEvent> events, Class<?> type, InetSocketAddress local) {
        for (int i = 0; i < events.size(); i++) {
            if (type.isInstance(events.get(i)) && events.get(i).path().local().equals(local)) {
                return i;
            }
        }
        return -1;
    }

    private static String read(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
