package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * {@link ClientPathSocket#holdReceivedUntil}: the first datagrams wait until the TLS engine is ready for them
 * (agent15 would ignore a ServerHello that came before it recorded sending the ClientHello).
 */
class ClientPathSocketGateTest {

    @Test
    void aDatagramWaitsForTheGateAndIsThenDeliveredWhole() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(loopback, 0));
             ClientPathSocket client = new ClientPathSocket(new InetSocketAddress(loopback, 0),
                     (InetSocketAddress) server.getLocalSocketAddress(), () -> { })) {
            AtomicBoolean engineReady = new AtomicBoolean();
            AtomicInteger gateChecks = new AtomicInteger();
            CountDownLatch checkedWhileClosed = new CountDownLatch(20);
            client.holdReceivedUntil(() -> {
                gateChecks.incrementAndGet();
                checkedWhileClosed.countDown();
                return engineReady.get();
            }, 10_000);
            byte[] serverHello = new byte[300];
            Arrays.fill(serverHello, (byte) 0x5a);
            server.send(new DatagramPacket(serverHello, serverHello.length, client.getLocalSocketAddress()));

            CompletableFuture<byte[]> delivered = CompletableFuture.supplyAsync(() -> {
                DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
                try {
                    client.receive(packet);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return Arrays.copyOf(packet.getData(), packet.getLength());
            });

            assertThat(checkedWhileClosed.await(5, TimeUnit.SECONDS)).as("the receiver polls the closed gate").isTrue();
            assertThat(delivered).as("held back while the engine is not ready").isNotDone();
            engineReady.set(true);
            assertThat(delivered.get(5, TimeUnit.SECONDS)).isEqualTo(serverHello);

            int checks = gateChecks.get();
            server.send(new DatagramPacket(serverHello, 10, client.getLocalSocketAddress()));
            DatagramPacket next = new DatagramPacket(new byte[1500], 1500);
            client.receive(next);
            assertThat(next.getLength()).isEqualTo(10);
            assertThat(gateChecks.get()).as("once open, the gate is not asked again").isEqualTo(checks);
        }
    }

    @Test
    void aGateThatNeverOpensLetsDatagramsThroughAfterItsDeadline() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(loopback, 0));
             ClientPathSocket client = new ClientPathSocket(new InetSocketAddress(loopback, 0),
                     (InetSocketAddress) server.getLocalSocketAddress(), () -> { })) {
            long start = System.nanoTime();
            client.holdReceivedUntil(() -> false, 200);
            server.send(new DatagramPacket(new byte[42], 42, client.getLocalSocketAddress()));
            DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
            client.receive(packet);
            assertThat(packet.getLength()).isEqualTo(42);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("held until the deadline, no longer")
                    .isBetween(200L, 5_000L);
        }
    }
}
