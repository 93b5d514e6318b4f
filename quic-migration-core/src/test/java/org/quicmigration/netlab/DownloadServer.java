package org.quicmigration.netlab;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.quicmigration.MigrationServer;

/**
 * A download server for {@link NetworkLab}, run in its server namespace: each stream's request is a byte count and
 * a newline, the answer that many bytes of {@link #content}, then FIN. Prints {@code LISTENING <port>} once ready and
 * runs until killed or until its standard input closes (the test JVM died).
 */
public final class DownloadServer {

    public static final String PROTOCOL = "netlab";

    private DownloadServer() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress address = InetAddress.getByName(args[0]);
        MigrationServer server = MigrationServer.builder()
                .bindAddress(new InetSocketAddress(address, 0))
                .selfSignedCertificate("netlab")
                .applicationProtocol(PROTOCOL)
                .idleTimeout(Duration.ofSeconds(30))
                .onConnection(connection -> {
                    while (connection.isOpen()) {
                        try {
                            var stream = connection.acceptStream(Duration.ofSeconds(60));
                            Thread serving = new Thread(() -> serve(stream), "download");
                            serving.setDaemon(true);
                            serving.start();
                        } catch (Exception e) {
                            return; // closed, or idle for a minute
                        }
                    }
                })
                .start();
        System.out.println("LISTENING " + server.localAddress().getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the parent goes away
        }
        server.close();
        System.exit(0);
    }

    private static void serve(org.quicmigration.BidirectionalStream stream) {
        try {
            String request = new BufferedReader(new InputStreamReader(stream.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            long size = Long.parseLong(request.trim());
            OutputStream out = stream.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (long offset = 0; offset < size; offset += chunk.length) {
                int length = (int) Math.min(chunk.length, size - offset);
                content(offset, chunk, length);
                out.write(chunk, 0, length);
            }
            out.close();
        } catch (Exception e) {
            System.out.println("SERVER-ERROR " + e);
        }
    }

    /** The bytes at {@code offset}..{@code offset + length} of every download: a pattern no shift leaves equal. */
    public static void content(long offset, byte[] into, int length) {
        for (int i = 0; i < length; i++) {
            long position = offset + i;
            into[i] = (byte) (position * 31 + (position >>> 11));
        }
    }
}
