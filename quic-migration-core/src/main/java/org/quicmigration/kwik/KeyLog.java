package org.quicmigration.kwik;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Internal: appends TLS 1.3 traffic secrets to a key log file in the NSS key log format (one line
 * {@code <label> <client random in hex> <secret in hex>} per secret), which Wireshark and tshark read to decrypt
 * QUIC packets. Lines are written during the handshake only, with at most one write per TLS event.
 *
 * <p>Thread-safe. One instance serves all connections of one client or server; its appends are serialised. The
 * file is opened in append mode for each write and each write is a single append of whole lines, so other
 * instances and other processes (a peer, another program honouring SSLKEYLOGFILE) may append to the same file.
 * A failed write is logged once per instance and never reaches the connection.
 */
public final class KeyLog {

    private static final System.Logger LOG = System.getLogger(KeyLog.class.getName());
    private static final HexFormat HEX = HexFormat.of();

    /** NSS key log labels for the TLS 1.3 traffic secrets (RFC 8446 7.1). */
    static final String CLIENT_EARLY = "CLIENT_EARLY_TRAFFIC_SECRET";
    static final String CLIENT_HANDSHAKE = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
    static final String SERVER_HANDSHAKE = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
    static final String CLIENT_APPLICATION = "CLIENT_TRAFFIC_SECRET_0";
    static final String SERVER_APPLICATION = "SERVER_TRAFFIC_SECRET_0";

    private final Path file;
    private final AtomicBoolean failureLogged = new AtomicBoolean();

    /** A key log that appends to {@code file}, created on the first write if missing. Nothing is opened yet. */
    public KeyLog(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    /** The file the secrets go to. */
    public Path file() {
        return file;
    }

    /**
     * Appends one line per secret, all for the same client random, in one write. Null secrets are skipped. Never
     * throws for an I/O problem: it is logged (once) instead.
     *
     * @param clientRandom the ClientHello random, 32 bytes; nothing is written without it
     * @param labelsAndSecrets pairs of a label (String) and its secret (byte[])
     */
    void append(byte[] clientRandom, Object... labelsAndSecrets) {
        if (clientRandom == null) {
            failed(new IllegalStateException("the ClientHello random is not known"));
            return;
        }
        String random = HEX.formatHex(clientRandom);
        StringBuilder lines = new StringBuilder(labelsAndSecrets.length * 80);
        for (int i = 0; i + 1 < labelsAndSecrets.length; i += 2) {
            byte[] secret = (byte[]) labelsAndSecrets[i + 1];
            if (secret != null) {
                lines.append(labelsAndSecrets[i]).append(' ').append(random).append(' ')
                        .append(HEX.formatHex(secret)).append('\n');
            }
        }
        if (lines.length() == 0) {
            return;
        }
        ByteBuffer bytes = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.US_ASCII));
        synchronized (this) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            } catch (IOException | RuntimeException e) {
                failed(e);
            }
        }
    }

    /** Logs the first failure of this key log; later ones would only repeat it for every handshake. */
    void failed(Exception e) {
        if (failureLogged.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "cannot write TLS secrets to key log " + file
                    + "; connections go on, but their traffic cannot be decrypted from this file (further errors"
                    + " are not logged)", e);
        }
    }

    @Override
    public String toString() {
        return "KeyLog[" + file + "]";
    }
}
