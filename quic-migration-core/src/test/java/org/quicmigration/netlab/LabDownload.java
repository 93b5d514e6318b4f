package org.quicmigration.netlab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;

/**
 * One download from {@link DownloadServer} on its own thread, checked by SHA-256 against the content it must
 * have, with the longest pause in received data after a moment the test marks.
 */
public final class LabDownload {

    private final long size;
    private final AtomicLong received = new AtomicLong();
    private final CompletableFuture<byte[]> digest = new CompletableFuture<>();
    private volatile long markNanos = Long.MAX_VALUE;
    private volatile long longestPauseNanos;
    private volatile long firstDataAfterMarkNanos = -1;

    private LabDownload(long size) {
        this.size = size;
    }

    /** Starts downloading {@code size} bytes on a new stream of {@code connection}. */
    public static LabDownload start(MigratingConnection connection, long size) {
        LabDownload download = new LabDownload(size);
        Thread thread = new Thread(() -> download.run(connection), "lab-download");
        thread.setDaemon(true);
        thread.start();
        return download;
    }

    private void run(MigratingConnection connection) {
        try {
            BidirectionalStream stream = connection.openStream();
            OutputStream out = stream.getOutputStream();
            out.write((size + "\n").getBytes(StandardCharsets.US_ASCII));
            out.close();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = stream.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            long last = System.nanoTime();
            int n;
            while ((n = in.read(buffer)) > 0) {
                long now = System.nanoTime();
                long mark = markNanos;
                if (now > mark) {
                    long pause = now - Math.max(last, mark);
                    if (pause > longestPauseNanos) {
                        longestPauseNanos = pause;
                    }
                    if (firstDataAfterMarkNanos < 0) {
                        firstDataAfterMarkNanos = now - mark;
                    }
                }
                last = now;
                sha.update(buffer, 0, n);
                received.addAndGet(n);
            }
            digest.complete(sha.digest());
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            digest.completeExceptionally(e);
        }
    }

    /** The SHA-256 every download of {@code size} bytes must have. */
    public static byte[] expectedDigest(long size) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] chunk = new byte[64 * 1024];
            for (long offset = 0; offset < size; offset += chunk.length) {
                int length = (int) Math.min(chunk.length, size - offset);
                DownloadServer.content(offset, chunk, length);
                sha.update(chunk, 0, length);
            }
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public long received() {
        return received.get();
    }

    /** Marks the moment of a network change; pauses count from here. */
    public void mark() {
        markNanos = System.nanoTime();
    }

    /** The longest time without data since {@link #mark()}, in ms, once the download has ended. */
    public double longestPauseMillis() {
        return longestPauseNanos / 1e6;
    }

    /** The digest, once the download has ended; fails as the download failed. */
    public CompletableFuture<byte[]> digest() {
        return digest;
    }
}
