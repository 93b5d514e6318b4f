package org.quicmigration.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.quicmigration.Await;

/** The relay kit over real UDP on loopback: bindings, rebinds and the policies. */
class UdpRelayTest {

    private static final InetAddress SERVER = address("127.0.0.1");
    private static final InetAddress WIFI = address("127.0.0.2");
    private static final InetAddress CELLULAR = address("127.0.0.3");
    private static final InetAddress OTHER = address("127.0.0.4");

    private final List<DatagramSocket> sockets = new ArrayList<>();

    @AfterEach
    void closeSockets() {
        sockets.forEach(DatagramSocket::close);
    }

    @Test
    void aSharedBindingCarriesEveryClientAndAnswersTheOneThatSentLast() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        DatagramSocket cellular = socket(CELLULAR);
        try (UdpRelay relay = UdpRelay.builder(local(server)).start()) {
            send(wifi, "from wifi", relay.address());
            DatagramPacket first = receive(server, "from wifi");
            send(cellular, "from cellular", relay.address());
            DatagramPacket second = receive(server, "from cellular");

            assertThat(second.getSocketAddress()).as("the server sees both clients at one binding")
                    .isEqualTo(first.getSocketAddress()).isEqualTo(relay.bindingAddresses().get(0));
            send(server, "answer", second.getSocketAddress());
            assertThat(receive(cellular, "answer").getSocketAddress()).isEqualTo(relay.address());
            assertThat(relay.latestInside()).isEqualTo(local(cellular));
            Await.until(() -> relay.forwarded() == 3, 5_000, () -> "3 datagrams forwarded, not " + relay.forwarded());
        }
    }

    @Test
    void eachInsideAddressGetsItsOwnBindingUpToTheBound() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        DatagramSocket cellular = socket(CELLULAR);
        DatagramSocket other = socket(OTHER);
        try (UdpRelay relay = UdpRelay.builder(local(server)).mapping(UdpRelay.Mapping.PER_INSIDE_ADDRESS)
                .maxBindings(2).start()) {
            send(wifi, "w", relay.address());
            InetSocketAddress wifiBinding = (InetSocketAddress) receive(server, "w").getSocketAddress();
            send(cellular, "c", relay.address());
            InetSocketAddress cellularBinding = (InetSocketAddress) receive(server, "c").getSocketAddress();
            assertThat(cellularBinding).as("a second inside address, a second binding").isNotEqualTo(wifiBinding);

            send(server, "to wifi", wifiBinding);
            assertThat(receive(wifi, "to wifi").getSocketAddress()).isEqualTo(relay.address());
            send(other, "o", relay.address());
            receive(server, "o");
            assertThat(relay.bindingAddresses()).as("the oldest binding closed beyond the bound of 2")
                    .doesNotContain(wifiBinding).contains(cellularBinding).hasSize(2);
        }
    }

    @Test
    void aRebindThatDropsTheOldBindingLosesWhatTheServerStillSendsThere() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        try (UdpRelay relay = UdpRelay.builder(local(server)).mapping(UdpRelay.Mapping.PER_INSIDE_ADDRESS).start()) {
            send(wifi, "before", relay.address());
            InetSocketAddress old = (InetSocketAddress) receive(server, "before").getSocketAddress();

            assertThat(relay.rebindLatest(OTHER, UdpRelay.OldBinding.DROP)).isTrue();
            send(wifi, "after", relay.address());
            InetSocketAddress fresh = (InetSocketAddress) receive(server, "after").getSocketAddress();
            send(server, "to old", old);
            send(server, "to new", fresh);

            assertThat(fresh.getAddress()).as("the new binding's address").isEqualTo(OTHER);
            assertThat(fresh).isNotEqualTo(old);
            assertThat(text(receive(wifi, "to new"))).as("the first datagram that reaches the client")
                    .isEqualTo("to new");
            assertThat(relay.rebinds()).isEqualTo(1);
        }
    }

    @Test
    void aRebindThatKeepsTheOldBindingStillDeliversWhatTheServerSendsThere() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        try (UdpRelay relay = UdpRelay.builder(local(server)).start()) {
            send(wifi, "before", relay.address());
            InetSocketAddress old = (InetSocketAddress) receive(server, "before").getSocketAddress();

            assertThat(relay.rebindAll(SERVER, UdpRelay.OldBinding.KEEP)).isEqualTo(1);
            send(wifi, "after", relay.address());
            InetSocketAddress fresh = (InetSocketAddress) receive(server, "after").getSocketAddress();
            send(server, "to old", old);

            assertThat(fresh.getPort()).as("a new port").isNotEqualTo(old.getPort());
            assertThat(text(receive(wifi, "to old"))).isEqualTo("to old");
            assertThat(relay.bindingAddresses()).containsExactly(fresh);
        }
    }

    @Test
    void policiesDropDuplicateAndDelayEachDirection() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        Random random = new Random(1);
        Policy dropMarked = Policy.drop(datagram -> datagram.bytes()[0] == 'x');
        Duration delay = Duration.ofMillis(50);
        try (UdpRelay relay = UdpRelay.builder(local(server))
                .toServer(dropMarked.then(Policy.duplicate(1, random)))
                .toClient(Policy.delay(delay, Duration.ofMillis(5), random)).start()) {
            send(wifi, "x dropped", relay.address());
            send(wifi, "twice", relay.address());

            DatagramPacket first = receive(server, "twice");
            assertThat(text(first)).as("the marked datagram was dropped").isEqualTo("twice");
            assertThat(text(receive(server, "the duplicate"))).isEqualTo("twice");
            long sent = System.nanoTime();
            send(server, "late", first.getSocketAddress());
            receive(wifi, "the delayed answer");
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("how long the answer took")
                    .isGreaterThanOrEqualTo(delay);
            assertThat(relay.dropped()).isEqualTo(1);
            assertThat(relay.duplicated()).isEqualTo(1);
            Await.until(() -> relay.forwarded() == 3, 5_000, () -> "3 datagrams forwarded, not " + relay.forwarded());
        }
    }

    @Test
    void aPolicyThatThrowsStopsTheRelayAndSaysWhy() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        UdpRelay relay = UdpRelay.builder(local(server)).name("failing-relay").toServer(datagram -> {
            throw new IllegalStateException("a broken policy");
        }).start();
        try {
            send(wifi, "boom", relay.address());

            Await.until(() -> relay.failure() != null, 5_000, "the relay reports the policy's failure");
            assertThat(relay.failure()).hasMessage("a broken policy");
            Await.until(() -> !threadAlive("failing-relay"), 5_000, "the relay's I/O thread ends");
        } finally {
            relay.close();
        }
    }

    @Test
    void closeStopsTheRelaysThreads() throws Exception {
        DatagramSocket server = socket(SERVER);
        DatagramSocket wifi = socket(WIFI);
        UdpRelay relay = UdpRelay.builder(local(server)).name("closing-relay")
                .toServer(Policy.delay(Duration.ofMillis(1), Duration.ZERO, new Random(2))).start();
        send(wifi, "delayed", relay.address());
        receive(server, "delayed");

        relay.close();

        Await.until(() -> !threadAlive("closing-relay") && !threadAlive("closing-relay-delay"), 5_000,
                "the relay's I/O and timer threads end");
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(thread -> thread.isAlive() && thread.getName().equals(name));
    }

    private DatagramSocket socket(InetAddress address) throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, 0));
        socket.setSoTimeout(5_000);
        sockets.add(socket);
        return socket;
    }

    private static InetSocketAddress local(DatagramSocket socket) {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private static void send(DatagramSocket from, String text, java.net.SocketAddress to) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        from.send(new DatagramPacket(bytes, bytes.length, to));
    }

    /** The next datagram on {@code socket}, within its 5 s timeout (a failure naming {@code what} otherwise). */
    private static DatagramPacket receive(DatagramSocket socket, String what) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[2_048], 2_048);
        try {
            socket.receive(packet);
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("not within 5 s on " + socket.getLocalSocketAddress() + ": " + what, e);
        }
        return packet;
    }

    private static String text(DatagramPacket packet) {
        return new String(packet.getData(), packet.getOffset(), packet.getLength(), StandardCharsets.UTF_8);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
