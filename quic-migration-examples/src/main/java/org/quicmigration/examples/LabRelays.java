package org.quicmigration.examples;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Base64;

import org.quicmigration.MigrationServer;
import org.quicmigration.ServerCertificate;

/**
 * The server side of {@link NetworkChangeBenchmark}, run inside the lab's server namespace: a QUIC download server
 * and a TLS 1.3 download server on loopback, each behind a relay that adds the same one-way delay and that clients
 * reach at the lab's server address. The QUIC relay ({@link NetworkEmulator}) gives each client address its own
 * loopback address towards the server, so the server sees a migration as one. Prints
 * {@code READY <quic port> <tcp port> <certificate, base64 DER>} and runs until its standard input closes.
 */
public final class LabRelays {

    private LabRelays() {
    }

    /**
     * Arguments: the address to listen on, the one-way delay in ms and, optionally, a file to which the QUIC
     * server's packets (every connection's, as {@link HandoverTimeline} describes them, with wall-clock times in
     * epoch milliseconds) are written when the relays stop.
     */
    public static void main(String[] args) throws Exception {
        InetAddress listenOn = InetAddress.getByName(args[0]);
        long delayMillis = Long.parseLong(args[1]);
        java.nio.file.Path traceFile = args.length > 2 ? java.nio.file.Path.of(args[2]) : null;
        java.util.Queue<String> trace = new java.util.concurrent.ConcurrentLinkedQueue<>();
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        try (TlsServer tls = new TlsServer(certificate);
             TcpDelayRelay tcp = new TcpDelayRelay(tls.address(), delayMillis, listenOn);
             MigrationServer quic = traced(MigrationServer.builder()
                     .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                     .certificate(certificate)
                     .applicationProtocol(Handovers.PROTOCOL)
                     .onConnection(Handovers::serveQuic), traceFile, trace)
                     .start();
             NetworkEmulator emulator = NetworkEmulator.builder(quic.localAddress())
                     .listenOn(listenOn)
                     .backAddressPerClientAddress(true)
                     .delay(Duration.ofMillis(delayMillis))
                     .start()) {
            System.out.println("READY " + emulator.address().getPort() + " " + tcp.address().getPort() + " "
                    + Base64.getEncoder().encodeToString(certificate.certificate().getEncoded()));
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the benchmark goes away
            }
            if (traceFile != null) {
                java.nio.file.Files.write(traceFile, trace);
            }
        }
        System.exit(0);
    }

    /** Traces the server's packets into {@code trace} (bounded) if there is a file to write them to. */
    private static MigrationServer.Builder traced(MigrationServer.Builder builder, java.nio.file.Path traceFile,
                                                  java.util.Queue<String> trace) {
        if (traceFile != null) {
            builder.packetListener(packet -> {
                if (trace.size() < 200_000) {
                    trace.add(String.format(java.util.Locale.ROOT, "%.1f %s", packet.time().toEpochMilli()
                            + packet.time().getNano() % 1_000_000 / 1e6, HandoverTimeline.describe(packet)));
                }
            });
        }
        return builder;
    }
}
