package org.quicmigration.examples;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingClient;
import org.quicmigration.MigratingConnection;
import org.quicmigration.MigrationServer;
import org.quicmigration.MigrationStrategy;
import org.quicmigration.StandbyPath;
import org.quicmigration.ServerCertificate;

/**
 * Downloads across an address change, the ways an application can survive one, for {@link TcpVsQuic} and
 * {@link HandoverBenchmark}. Every download is 6 MiB whose content depends only on the byte offset (so a
 * reconnect can resume anywhere and the whole is checked with one SHA-256); the change comes after 2 MiB, from
 * 127.0.0.2 to 127.0.0.3; the interruption is the longest pause in received data from the change on.
 */
final class Handovers {

    static final String PROTOCOL = "handover";
    static final int TOTAL = 6 << 20;
    static final int CHANGE_AT = 2 << 20;
    private static final int BLOCK = 64 * 1024;
    static final InetAddress BEFORE = address("127.0.0.2");
    static final InetAddress AFTER = address("127.0.0.3");

    private Handovers() {
    }

    /**
     * One download: its SHA-256, the longest pause in received data from the change on, and the bytes received over
     * time around the change (for a chart; the pause is measured without it).
     */
    record Download(byte[] digest, double interruptionMillis, Received received) {
    }

    /**
     * Bytes received over time around a change: {@code millis[i]} after the change (negative before it) the reader
     * had {@code bytes[i]} bytes in all. From about {@value DownloadWatch#BEFORE_CHANGE} ms before the change to the end of
     * the download, or to {@value DownloadWatch#AFTER_CHANGE} points after the change if the download is longer.
     */
    record Received(double[] millis, long[] bytes) {
    }

    /** The servers for one added delay: TLS over TCP behind a delaying TCP relay, and QUIC. */
    static final class Servers implements AutoCloseable {
        final long delayMillis;
        final ServerCertificate certificate = ServerCertificate.selfSigned("localhost");
        final TlsServer tls;
        final TcpDelayRelay tcpRelay;
        final MigrationServer quic;
        final SSLContext clientTls;

        Servers(long delayMillis) throws Exception {
            this.delayMillis = delayMillis;
            this.tls = new TlsServer(certificate);
            this.tcpRelay = new TcpDelayRelay(tls.address(), delayMillis);
            this.quic = MigrationServer.builder()
                    .bindAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .certificate(certificate)
                    .applicationProtocol(PROTOCOL)
                    .onConnection(Handovers::serveQuic)
                    .start();
            this.clientTls = TlsServer.clientContext(certificate.certificate());
        }

        @Override
        public void close() throws Exception {
            quic.close();
            tcpRelay.close();
            tls.close();
        }
    }

    /**
     * The JSON fields for the received bytes over time of the median run of {@code runs} (the run whose pause is
     * the median, {@code sorted[n / 2]}), to follow a result row's other fields: {@code "receivedRun"} (its index),
     * {@code "receivedMs"} (milliseconds from the change) and {@code "receivedBytes"} (bytes received in all then).
     */
    static String receivedJson(Download[] runs) {
        Integer[] order = new Integer[runs.length];
        for (int i = 0; i < runs.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, java.util.Comparator.comparingDouble(i -> runs[i].interruptionMillis()));
        int median = order[runs.length / 2];
        Received received = runs[median].received();
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT, "\"receivedRun\": %d, \"receivedMs\": [", median));
        for (int i = 0; i < received.millis().length; i++) {
            json.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", received.millis()[i]));
        }
        json.append("], \"receivedBytes\": ").append(Arrays.toString(received.bytes()));
        return json.toString();
    }

    // ---- TCP + TLS 1.3: reconnect and resume ----

    /** TCP + TLS 1.3 through the relay; at the change the old network is cut and the client reconnects, resuming. */
    static Download tcpReconnect(Servers servers) throws Exception {
        return tcpDownload(servers.clientTls, servers.tcpRelay, BEFORE, AFTER);
    }

    private static Download tcpDownload(SSLContext tls, TcpDelayRelay relay, InetAddress before, InetAddress after)
            throws Exception {
        DownloadWatch watch = new DownloadWatch();
        byte[] buffer = new byte[BLOCK];
        InetAddress local = before;
        while (watch.received() < TOTAL) {
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket()) {
                socket.bind(new InetSocketAddress(local, 0));
                socket.connect(relay.address(), 5_000);
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                socket.setEnabledProtocols(new String[]{"TLSv1.3"});
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeLong(watch.received()); // resume where we are
                out.flush();
                InputStream in = socket.getInputStream();
                int n;
                while (watch.received() < TOTAL && (n = in.read(buffer, 0, (int) Math.min(BLOCK, TOTAL - watch.received()))) > 0) {
                    watch.data(buffer, n);
                    if (watch.changeDue()) {
                        relay.outage(local); // the old network is gone, and this connection with it
                        watch.changed();
                        local = after;
                        break;
                    }
                }
            } catch (IOException e) {
                if (!watch.hasChanged()) {
                    throw e; // failed before the change: a real error
                }
            }
        }
        return watch.result();
    }

    // ---- QUIC ----

    /** How the QUIC client meets the change. */
    enum QuicChange {
        /** The old network dies at the change; the client migrates. */
        MIGRATE_ABRUPT,
        /** The old network dies at the change; the client migrates to the standby path it kept on the new one. */
        MIGRATE_TO_STANDBY,
        /**
         * The old network dies at the change; the client migrates to an address (and port) it used a moment before the
         * download, which the server remembers as validated.
         */
        MIGRATE_TO_REMEMBERED,
        /** The old network stays up; the client migrates. */
        MIGRATE_POLITE,
        /** The old network stays up; the client validates the new path first, then moves. */
        MIGRATE_VALIDATE_FIRST,
        /** The NAT gives the client a new port; the client does nothing, the server follows. */
        NAT_REBINDING,
        /** The old network dies; the client opens a new connection from the new address and resumes. */
        NEW_CONNECTION
    }

    static Download quic(Servers servers, QuicChange change) throws Exception {
        DownloadWatch watch = new DownloadWatch();
        try (NetworkEmulator network = NetworkEmulator.builder(servers.quic.localAddress())
                .delay(Duration.ofMillis(servers.delayMillis)).start()) {
            MigratingConnection connection = connect(servers, network, BEFORE);
            try {
                Examples.awaitSpareConnectionId(connection);
                InetSocketAddress after = new InetSocketAddress(AFTER, 0);
                if (change == QuicChange.MIGRATE_TO_STANDBY) {
                    StandbyPath standby = connection.addStandbyPath(after);
                    if (!standby.awaitReady(Duration.ofSeconds(5))) {
                        throw new IOException("the standby did not answer: " + standby);
                    }
                } else if (change == QuicChange.MIGRATE_TO_REMEMBERED) {
                    after = connection.migrate(after).get(10, java.util.concurrent.TimeUnit.SECONDS).newPath().local();
                    Examples.awaitSpareConnectionId(connection);
                    connection.migrate(new InetSocketAddress(BEFORE, 0)).get(10, java.util.concurrent.TimeUnit.SECONDS);
                    Examples.awaitSpareConnectionId(connection);
                }
                InetSocketAddress target = after;
                boolean resume = true;
                while (resume) {
                    resume = false;
                    BidirectionalStream stream = connection.openStream();
                    try (DataOutputStream out = new DataOutputStream(stream.getOutputStream())) {
                        out.writeLong(watch.received()); // from where we are
                    }
                    byte[] buffer = new byte[BLOCK];
                    try (InputStream in = stream.getInputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            watch.data(buffer, n);
                            if (watch.changeDue()) {
                                watch.changed();
                                switch (change) {
                                    case MIGRATE_ABRUPT, MIGRATE_TO_STANDBY, MIGRATE_TO_REMEMBERED -> {
                                        network.outage(BEFORE, true);
                                        connection.migrate(target);
                                    }
                                    case MIGRATE_POLITE -> connection.migrate(new InetSocketAddress(AFTER, 0));
                                    case MIGRATE_VALIDATE_FIRST -> connection.migrate(new InetSocketAddress(AFTER, 0),
                                            MigrationStrategy.VALIDATE_THEN_SWITCH);
                                    case NAT_REBINDING -> network.rebindAll();
                                    case NEW_CONNECTION -> {
                                        network.outage(BEFORE, true);
                                        connection.close();
                                        connection = connect(servers, network, AFTER);
                                        resume = true;
                                    }
                                }
                                if (resume) {
                                    break;
                                }
                            }
                        }
                    } catch (IOException e) {
                        if (!resume) {
                            throw e;
                        }
                    }
                }
            } finally {
                connection.close();
            }
            if (watch.received() != TOTAL) {
                throw new IOException("QUIC download (" + change + ") ended after " + watch.received() + " of " + TOTAL + " bytes");
            }
        }
        return watch.result();
    }

    private static MigratingConnection connect(Servers servers, NetworkEmulator network, InetAddress local) throws Exception {
        return MigratingClient.builder()
                .server(network.address())
                .serverName("localhost")
                .applicationProtocol(PROTOCOL)
                .pinnedCertificate(servers.certificate.certificate())
                .localAddress(new InetSocketAddress(local, 0))
                .build().connect();
    }

    /** Each stream: the client sends an 8-byte offset; the server sends the download from there. */
    static void serveQuic(MigratingConnection connection) {
        try {
            while (true) {
                BidirectionalStream stream = connection.acceptStream(Duration.ofMinutes(1));
                long offset;
                try (InputStream in = stream.getInputStream()) {
                    offset = new DataInputStream(in).readLong();
                    // Read to the end before closing: closing early sends STOP_SENDING, and a client still closing
                    // its side then fails with "output stream is reset" (seen in 1 of 15 new-connection runs).
                    in.readAllBytes();
                }
                try (OutputStream out = stream.getOutputStream()) {
                    sendFrom(offset, out);
                }
            }
        } catch (Exception e) {
            // the client is done
        }
    }

    // ---- the download's content: block b is new Random(b)'s bytes, so any offset can be served ----

    /** Sends the download from {@code offset} to its end. */
    static void sendFrom(long offset, OutputStream out) throws IOException {
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

    static byte[] expectedDigest() throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[BLOCK];
        for (int index = 0; index < TOTAL / BLOCK; index++) {
            new Random(index).nextBytes(block);
            digest.update(block);
        }
        return digest.digest();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
