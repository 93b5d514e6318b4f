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

    /** Arguments: the address to listen on, the one-way delay in ms. */
    public static void main(String[] args) throws Exception {
        InetAddress listenOn = InetAddress.getByName(args[0]);
        long delayMillis = Long.parseLong(args[1]);
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        try (Handovers.TlsServer tls = new Handovers.TlsServer(certificate);
             TcpDelayRelay tcp = new TcpDelayRelay(tls.address(), delayMillis, listenOn);
             MigrationServer quic = MigrationServer.builder()
                     .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                     .certificate(certificate)
                     .applicationProtocol(Handovers.PROTOCOL)
                     .onConnection(Handovers::serveQuic)
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
        }
        System.exit(0);
    }
}
