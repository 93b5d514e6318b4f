package org.quicmigration.examples;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationEvent;
import org.quicmigration.MigrationServer;

/**
 * An attacker tries to take over a connection by spoofing (RFC 9000 9.3.2, "on-path address spoofing"). A client
 * on 127.0.0.2 downloads 4 MiB through a network with 25 ms each way. Halfway, an attacker on that path copies one
 * of the client's packets and races it to the server from its own address, 127.0.0.66, so the server sees the
 * connection's newest packet arrive from there. The server must not be hijacked: it may send the attacker's address
 * at most 3x what it received from it (RFC 9000 8), it challenges that address (which cannot answer: it has no
 * keys) and the previous one (9.3.3), and it stays with, or returns to, the real client. Exits 1 if the download
 * differs, the attacker got more than 3x, or the attacker's address was ever validated.
 *
 * <pre>./run-example SpoofedAddress</pre>
 */
public final class SpoofedAddress {

    private static final String PROTOCOL = "spoofed-address";
    private static final int SIZE = 4 << 20;

    private SpoofedAddress() {
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        InetAddress client = InetAddress.getByName("127.0.0.2");
        InetAddress attackerAddress = InetAddress.getByName("127.0.0.66");
        List<MigrationEvent> serverEvents = new CopyOnWriteArrayList<>();
        AtomicLong attackerSent = new AtomicLong();
        AtomicLong attackerReceived = new AtomicLong();
        boolean intact;
        try (MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .selfSignedCertificate("localhost")
                .applicationProtocol(PROTOCOL)
                .migrationListener(event -> {
                    serverEvents.add(event);
                    print(start, "server:   " + describe(event));
                })
                .onConnection(Examples.digestedDownload(SIZE, 11))
                .start();
             NetworkEmulator network = NetworkEmulator.builder(server.localAddress()).delay(Duration.ofMillis(25)).start();
             DatagramSocket attacker = new DatagramSocket(new InetSocketAddress(attackerAddress, 0));
             MigratingConnection connection = MigratingClient.builder()
                     .server(network.address())
                     .serverName("localhost")
                     .applicationProtocol(PROTOCOL)
                     .pinnedCertificate(server.certificate().certificate())
                     .localAddress(new InetSocketAddress(client, 0))
                     .build().connect()) {
            print(start, "client:   connected from " + connection.localAddress());
            listen(attacker, attackerReceived);
            AtomicBoolean armed = new AtomicBoolean();
            network.tap(copy -> {
                if (armed.compareAndSet(true, false)) {
                    try {
                        // Straight to the server, without the path's 25 ms: the copy arrives first.
                        attacker.send(new DatagramPacket(copy, copy.length, server.localAddress()));
                        attackerSent.addAndGet(copy.length);
                    } catch (java.io.IOException e) {
                        System.out.println("attacker: cannot send: " + e);
                    }
                }
            });

            Examples.Downloaded download = Examples.downloadDigested(connection, SIZE, () -> {
                print(start, "attacker: copies the client's next packet and sends it from " + attacker.getLocalSocketAddress());
                armed.set(true);
            });
            intact = download.intact();
            print(start, String.format("client:   %,d bytes, sha-256 %s, still on %s", download.bytes(),
                    intact ? "verified" : "MISMATCH", connection.path()));
            // Give the server the time to give up on the attacker's address (3 probe timeouts; at most 5 s here).
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline && serverEvents.stream().noneMatch(event ->
                    event instanceof MigrationEvent.PathValidationFailed failed && isAttacker(failed, attackerAddress))) {
                Thread.sleep(20);
            }
        }
        boolean hijacked = serverEvents.stream().anyMatch(event ->
                event instanceof MigrationEvent.PathValidated validated && isAttacker(validated, attackerAddress));
        boolean tried = serverEvents.stream().anyMatch(event ->
                event instanceof MigrationEvent.MigrationStarted started && isAttacker(started, attackerAddress));
        boolean bounded = attackerReceived.get() <= 3 * attackerSent.get();
        System.out.printf("attacker: sent %,d bytes, received %,d (the limit is 3x: %,d)%n", attackerSent.get(),
                attackerReceived.get(), 3 * attackerSent.get());
        if (!intact || hijacked || !bounded || !tried) {
            System.out.println("FAILED: " + (!intact ? "the download differed" : hijacked ? "the attacker's address was validated"
                    : !bounded ? "the server sent the attacker more than 3x" : "the attack never reached the server"));
            System.exit(1);
        }
        System.out.println("OK: the spoofed address got at most 3x and was never validated; the client kept its connection");
    }

    private static boolean isAttacker(MigrationEvent event, InetAddress attacker) {
        return event.path().remote().getAddress().equals(attacker);
    }

    /** Counts what the server sends to the attacker's address. */
    private static void listen(DatagramSocket attacker, AtomicLong received) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[65_536];
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            while (!attacker.isClosed()) {
                try {
                    attacker.receive(packet);
                    received.addAndGet(packet.getLength());
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "attacker");
        thread.setDaemon(true);
        thread.start();
    }

    private static String describe(MigrationEvent event) {
        String at = event.path().remote().toString();
        if (event instanceof MigrationEvent.MigrationStarted) {
            return "the connection's newest packet came from " + at + "; validating it, sending it at most 3x";
        }
        if (event instanceof MigrationEvent.PathValidationStarted validation) {
            return "PATH_CHALLENGE " + validation.challengeData() + " to " + at;
        }
        if (event instanceof MigrationEvent.PathValidated validated) {
            return String.format("%s answered in %.1f ms", at, validated.roundTrip().toNanos() / 1e6);
        }
        if (event instanceof MigrationEvent.PathValidationFailed) {
            return at + " never answered: not a usable address";
        }
        if (event instanceof MigrationEvent.MigrationCompleted) {
            return "following " + at;
        }
        if (event instanceof MigrationEvent.MigrationAbandoned) {
            return "gave up on " + at;
        }
        if (event instanceof MigrationEvent.PeerConnectionIdChanged changed) {
            return "destination connection ID " + changed.oldId() + " -> " + changed.newId();
        }
        return event.getClass().getSimpleName() + " " + at;
    }

    private static void print(long start, String line) {
        System.out.printf("%8.1f ms  %s%n", (System.nanoTime() - start) / 1e6, line);
    }
}
