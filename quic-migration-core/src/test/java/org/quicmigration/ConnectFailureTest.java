package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Every way a connection attempt or a connection can fail gives a typed exception, in bounded time. */
class ConnectFailureTest {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    @Test
    void connectingWhereNothingListensFailsFastAsUnreachable() throws Exception {
        InetSocketAddress nobody;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(Echo.LOOPBACK, 0))) {
            nobody = (InetSocketAddress) probe.getLocalSocketAddress();
        }
        MigratingClient client = MigratingClient.builder()
                .server(nobody)
                .applicationProtocol(Echo.ALPN)
                .insecureTrustAnyCertificateForTesting()
                .connectTimeout(Duration.ofSeconds(10))
                .build();

        long start = System.nanoTime();
        QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(failure).as("connect to a closed port").isNotNull();
        assertThat(failure.reason()).isEqualTo(QuicConnectException.Reason.UNREACHABLE);
        assertThat(failure).hasMessageContaining(String.valueOf(nobody.getPort()));
        assertThat(millis).as("fails on the ICMP error, long before the 10 s timeout").isLessThan(5_000);
    }

    @Test
    void silentServerFailsWithTimeoutWithinTheConnectTimeout() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(Echo.LOOPBACK, 0))) {
            CompletableFuture.runAsync(() -> swallow(silent));
            MigratingClient client = MigratingClient.builder()
                    .server((InetSocketAddress) silent.getLocalSocketAddress())
                    .applicationProtocol(Echo.ALPN)
                    .insecureTrustAnyCertificateForTesting()
                    .connectTimeout(CONNECT_TIMEOUT)
                    .build();

            long start = System.nanoTime();
            QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(failure).as("connect to a server that never answers").isNotNull();
            assertThat(failure.reason()).isEqualTo(QuicConnectException.Reason.TIMEOUT);
            assertThat(millis).as("gives up at the connect timeout, not later")
                    .isBetween(CONNECT_TIMEOUT.toMillis() - 100, CONNECT_TIMEOUT.toMillis() + 1_500);
        }
    }

    @Test
    void certificateOtherThanThePinnedOneIsRejected() throws Exception {
        try (MigrationServer server = Echo.startServer()) {
            MigratingClient client = Echo.client(server)
                    .pinnedCertificate(ServerCertificate.selfSigned("localhost").certificate())
                    .connectTimeout(CONNECT_TIMEOUT)
                    .build();

            QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);

            assertThat(failure).as("connect with the wrong pinned certificate").isNotNull();
            assertThat(failure.reason()).isEqualTo(QuicConnectException.Reason.CERTIFICATE_REJECTED);
        }
    }

    @Test
    void certificateForAnotherHostNameIsRejected() throws Exception {
        try (MigrationServer server = Echo.startServer()) {
            MigratingClient client = Echo.client(server)
                    .serverName("not-localhost.example")
                    .connectTimeout(CONNECT_TIMEOUT)
                    .build();

            QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);

            assertThat(failure).as("connect to a server whose certificate names another host").isNotNull();
            assertThat(failure.reason()).isEqualTo(QuicConnectException.Reason.CERTIFICATE_REJECTED);
        }
    }

    @Test
    void certificateNotInTheTrustStoreIsRejected() throws Exception {
        try (MigrationServer server = Echo.startServer()) {
            java.security.KeyStore empty = java.security.KeyStore.getInstance("PKCS12");
            empty.load(null, null);
            empty.setCertificateEntry("other", ServerCertificate.selfSigned("localhost").certificate());
            MigratingClient client = Echo.client(server).trustStore(empty).connectTimeout(CONNECT_TIMEOUT).build();

            QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);

            assertThat(failure).as("connect with a trust store that lacks the server's certificate").isNotNull();
            assertThat(failure.reason()).isEqualTo(QuicConnectException.Reason.CERTIFICATE_REJECTED);
        }
    }

    @Test
    void unknownApplicationProtocolIsRejected() throws Exception {
        try (MigrationServer server = Echo.startServer()) {
            MigratingClient client = Echo.client(server)
                    .applicationProtocol("no-such-protocol")
                    .connectTimeout(CONNECT_TIMEOUT)
                    .build();

            QuicConnectException failure = catchThrowableOfType(QuicConnectException.class, client::connect);

            assertThat(failure).as("connect asking for an ALPN the server lacks").isNotNull();
            assertThat(failure.reason()).as(failure.toString()).isEqualTo(QuicConnectException.Reason.APPLICATION_PROTOCOL_REJECTED);
            assertThat(failure).hasMessageContaining("no-such-protocol");
        }
    }

    @Test
    void peerClosingMidStreamFailsTheReaderWithConnectionClosed() throws Exception {
        try (MigrationServer server = Echo.serverBuilder().onConnection(ConnectFailureTest::sendHalfThenClose).start();
             MigratingConnection connection = Echo.client(server).build().connect()) {
            BidirectionalStream stream = connection.openStream();
            stream.getOutputStream().write(1);
            stream.getOutputStream().flush();
            InputStream in = stream.getInputStream();

            CompletableFuture<Throwable> reading = CompletableFuture.supplyAsync(() -> {
                byte[] buffer = new byte[8192];
                try {
                    while (in.read(buffer) >= 0) {
                        // keep reading until the connection dies
                    }
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            });
            Throwable failure = reading.get(10, TimeUnit.SECONDS);

            assertThat(failure).as("reading from a stream whose connection the peer closed")
                    .isInstanceOf(ConnectionClosedException.class);
            ConnectionClosedException closed = (ConnectionClosedException) failure;
            assertThat(closed.reason()).isEqualTo(ConnectionClosedException.Reason.CLOSED_BY_PEER);
            assertThat(closed.errorCode()).hasValue(42);
            assertThat(connection.isOpen()).isFalse();
            assertThat(catchThrowableOfType(ConnectionClosedException.class, connection::openStream))
                    .as("opening a stream after the peer closed").isNotNull();
        }
    }

    private static void sendHalfThenClose(MigratingConnection connection) {
        try {
            BidirectionalStream stream = connection.acceptStream(Duration.ofSeconds(10));
            stream.getInputStream().read();
            OutputStream out = stream.getOutputStream();
            out.write(new byte[100_000]);
            out.flush();
            connection.close(42, "bye in the middle");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void swallow(DatagramSocket socket) {
        byte[] buffer = new byte[2048];
        try {
            while (true) {
                socket.receive(new DatagramPacket(buffer, buffer.length));
            }
        } catch (Exception e) {
            // socket closed at the end of the test
        }
    }
}
