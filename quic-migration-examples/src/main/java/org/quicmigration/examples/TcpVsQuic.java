package org.quicmigration.examples;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;
import org.quicmigration.ServerCertificate;

/**
 * TCP versus QUIC when the network changes, measured. Both download the same 6 MiB through a relay that adds a
 * delay each way (default 25 ms). After 2 MiB the client's network (127.0.0.2) goes away abruptly and the client
 * continues from 127.0.0.3:
 * <ul>
 * <li>TCP + TLS 1.3 cannot move: the client opens a new connection from the new address (TCP handshake, TLS
 *     handshake) and asks the server to resume at the byte it had reached;</li>
 * <li>QUIC migrates the connection it has: {@code migrate()}, then the server validates the new path.</li>
 * </ul>
 * The interruption is the longest pause in received data from the moment of the change. Each is measured over
 * several runs (default 5) and the medians are compared; every download is checked byte for byte (SHA-256).
 * Nothing here is hard-coded: the numbers are whatever this machine measures. Exits 1 if a download differs.
 *
 * <pre>mvn -q -B install -DskipTests && mvn -q -B -pl quic-migration-examples exec:java \
 *     -Dexec.mainClass=org.quicmigration.examples.TcpVsQuic -Dexec.args="5 25"</pre>
 */
public final class TcpVsQuic {

    private static final String PROTOCOL = "tcp-vs-quic";
    private static final int TOTAL = 6 << 20;
    private static final int CHANGE_AT = 2 << 20;
    private static final int BLOCK = 64 * 1024;

    private TcpVsQuic() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long delayMillis = args.length > 1 ? Long.parseLong(args[1]) : 25;
        InetAddress before = InetAddress.getByName("127.0.0.2");
        InetAddress after = InetAddress.getByName("127.0.0.3");
        ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        byte[] expected = expectedDigest();
        double[] tcp = new double[runs];
        double[] quic = new double[runs];
        boolean intact = true;
        System.out.printf("%d MiB download, network change after %d MiB, %d ms each way (RTT %d ms)%n",
                TOTAL >> 20, CHANGE_AT >> 20, delayMillis, 2 * delayMillis);
        System.out.printf("%4s %28s %28s%n", "run", "TCP+TLS 1.3 reconnect, ms", "QUIC migration, ms");
        try (TlsServer tlsServer = new TlsServer(certificate);
             TcpDelayRelay tcpRelay = new TcpDelayRelay(tlsServer.address(), delayMillis);
             MigrationServer quicServer = MigrationServer.builder()
                     .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                     .certificate(certificate)
                     .applicationProtocol(PROTOCOL)
                     .onConnection(TcpVsQuic::serveQuic)
                     .start()) {
            SSLContext clientTls = clientContext(certificate);
            for (int run = 0; run < runs; run++) {
                Download tcpRun = tcpDownload(clientTls, tcpRelay, before, after);
                Download quicRun = quicDownload(quicServer, certificate, delayMillis, before, after);
                tcp[run] = tcpRun.interruptionMillis();
                quic[run] = quicRun.interruptionMillis();
                intact &= Arrays.equals(expected, tcpRun.digest()) && Arrays.equals(expected, quicRun.digest());
                System.out.printf(Locale.ROOT, "%4d %28.1f %28.1f%n", run + 1, tcp[run], quic[run]);
            }
        }
        double tcpMedian = median(tcp);
        double quicMedian = median(quic);
        System.out.printf(Locale.ROOT, "median %26.1f %28.1f%n", tcpMedian, quicMedian);
        System.out.printf(Locale.ROOT, "TCP's interruption / QUIC's: %.2f (median of %d runs on this machine; above 1 means"
                + " QUIC resumed sooner)%n", tcpMedian / quicMedian, runs);
        if (!intact) {
            System.out.println("FAILED: a download differed from what the server sent");
            System.exit(1);
        }
        System.out.println("OK: every download verified byte for byte");
    }

    private record Download(byte[] digest, double interruptionMillis) {
    }

    /** Watches a download: digests it, notes when the change happened and the longest pause after it. */
    private static final class Watch {
        private final MessageDigest digest;
        private long received;
        private long changeNanos = -1;
        private long lastDataNanos;
        private long longestPauseNanos;

        Watch() throws Exception {
            digest = MessageDigest.getInstance("SHA-256");
        }

        void data(byte[] buffer, int n) {
            long now = System.nanoTime();
            if (changeNanos >= 0) {
                longestPauseNanos = Math.max(longestPauseNanos, now - lastDataNanos);
            }
            lastDataNanos = now;
            digest.update(buffer, 0, n);
            received += n;
        }

        boolean changeDue() {
            return changeNanos < 0 && received >= CHANGE_AT;
        }

        void changed() {
            changeNanos = System.nanoTime();
            lastDataNanos = changeNanos; // the pause counts from the change
        }

        Download result() {
            return new Download(digest.digest(), longestPauseNanos / 1e6);
        }
    }

    // ---- TCP + TLS 1.3: reconnect and resume ----

    private static Download tcpDownload(SSLContext tls, TcpDelayRelay relay, InetAddress before, InetAddress after)
            throws Exception {
        Watch watch = new Watch();
        byte[] buffer = new byte[BLOCK];
        InetAddress local = before;
        while (watch.received < TOTAL) {
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket()) {
                socket.bind(new InetSocketAddress(local, 0));
                socket.connect(relay.address(), 5_000);
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                socket.setEnabledProtocols(new String[]{"TLSv1.3"});
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeLong(watch.received); // resume where we are
                out.flush();
                InputStream in = socket.getInputStream();
                int n;
                while (watch.received < TOTAL && (n = in.read(buffer, 0, (int) Math.min(BLOCK, TOTAL - watch.received))) > 0) {
                    watch.data(buffer, n);
                    if (watch.changeDue()) {
                        relay.outage(local); // the old network is gone, and this connection with it
                        watch.changed();
                        local = after;
                        break;
                    }
                }
            } catch (IOException e) {
                if (watch.changeNanos < 0) {
                    throw e; // failed before the change: a real error
                }
            }
        }
        return watch.result();
    }

    private static SSLContext clientContext(ServerCertificate certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate.certificate());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** A TLS 1.3 server: reads an 8-byte offset, then sends the download from there to its end. */
    private static final class TlsServer implements AutoCloseable {
        private final SSLServerSocket socket;

        TlsServer(ServerCertificate certificate) throws Exception {
            char[] password = "relay".toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", certificate.privateKey(), password,
                    certificate.chain().toArray(new java.security.cert.X509Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(keys, password);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(factory.getKeyManagers(), null, null);
            socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            socket.setEnabledProtocols(new String[]{"TLSv1.3"});
            Thread acceptor = new Thread(this::accept, "tls-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket client = socket.accept();
                    Thread sender = new Thread(() -> serve(client), "tls-server-send");
                    sender.setDaemon(true);
                    sender.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void serve(Socket client) {
            try (client) {
                client.setTcpNoDelay(true);
                long offset = new DataInputStream(client.getInputStream()).readLong();
                sendFrom(offset, client.getOutputStream());
            } catch (IOException e) {
                // the client went away (its network changed)
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // ---- QUIC: migrate ----

    private static Download quicDownload(MigrationServer server, ServerCertificate certificate, long delayMillis,
                                         InetAddress before, InetAddress after) throws Exception {
        Watch watch = new Watch();
        try (NetworkEmulator network = NetworkEmulator.builder(server.localAddress())
                .delay(Duration.ofMillis(delayMillis)).start();
             MigratingConnection connection = MigratingClient.builder()
                     .server(network.address())
                     .serverName("localhost")
                     .applicationProtocol(PROTOCOL)
                     .pinnedCertificate(certificate.certificate())
                     .localAddress(new InetSocketAddress(before, 0))
                     .build().connect()) {
            Examples.awaitSpareConnectionId(connection);
            BidirectionalStream stream = connection.openStream();
            stream.getOutputStream().close(); // the request: "everything"
            byte[] buffer = new byte[BLOCK];
            try (InputStream in = stream.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    watch.data(buffer, n);
                    if (watch.changeDue()) {
                        network.outage(before, true); // the old network is gone
                        watch.changed();
                        connection.migrate(new InetSocketAddress(after, 0)).whenComplete((result, error) -> {
                            if (error != null) {
                                System.out.println("migration failed: " + error);
                            }
                        });
                    }
                }
            }
            if (watch.received != TOTAL) {
                throw new IOException("QUIC download ended after " + watch.received + " of " + TOTAL + " bytes");
            }
        }
        return watch.result();
    }

    private static void serveQuic(MigratingConnection connection) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                stream.getInputStream().readAllBytes();
                try (OutputStream out = stream.getOutputStream()) {
                    sendFrom(0, out);
                }
            }
        } catch (Exception e) {
            // the client is done
        }
    }

    // ---- the download's content: block b is new Random(b)'s bytes, so any offset can be served ----

    private static void sendFrom(long offset, OutputStream out) throws IOException {
        byte[] block = new byte[BLOCK];
        for (long position = offset; position < TOTAL; ) {
            int index = (int) (position / BLOCK);
            new Random(index).nextBytes(block);
            int from = (int) (position % BLOCK);
            out.write(block, from, BLOCK - from);
            position += BLOCK - from;
        }
        out.flush();
    }

    private static byte[] expectedDigest() throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[BLOCK];
        for (int index = 0; index < TOTAL / BLOCK; index++) {
            new Random(index).nextBytes(block);
            digest.update(block);
        }
        return digest.digest();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
