package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;
import static org.quicmigration.ClientMigrationTest.awaitSpare;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * The data in flight when a client moves away from a path whose uplink died: the server declares it lost at the move
 * (RFC 9000 9.4 restarts congestion control on the new path), but the client had received it and acknowledges it
 * from the new path. That data must not come again: the server would resend it, in slow start, before the first
 * byte the client is missing.
 */
class StrandedDataTest {

    private static final int SIZE = 4 * 1024 * 1024;

    @Test
    void dataTheClientAcknowledgesFromTheNewPathIsNotSentAgain() throws Exception {
        moveAfterTheUplinkDied(false);
    }

    @Test
    void dataTheClientAcknowledgesFromAStandbyItMovedToIsNotSentAgain() throws Exception {
        // The server validated the standby long before: the move is complete at once, with no validation.
        moveAfterTheUplinkDied(true);
    }

    private void moveAfterTheUplinkDied(boolean standby) throws Exception {
        byte[] body = Echo.randomBytes(SIZE, 21);
        List<PacketEvent> received = new CopyOnWriteArrayList<>();
        List<PacketEvent> sentOnCellular = new CopyOnWriteArrayList<>();
        AtomicReference<Instant> moved = new AtomicReference<>();
        Echo.Accepted accepted = new Echo.Accepted(connection -> download(connection, body));
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(true).onConnection(accepted).start();
             MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                     .streamReceiveWindow(2L * SIZE) // the window in flight is the congestion window, not credit
                     .packetListener(packet -> {
                         if (packet.direction() == PacketEvent.Direction.RECEIVED) {
                             received.add(packet);
                         } else if (packet.path().local().getAddress().equals(CELLULAR)) {
                             sentOnCellular.add(packet);
                         }
                     }).build().connect()) {
            awaitSpare(connection);
            if (standby) {
                assertThat(connection.addStandbyPath(new InetSocketAddress(CELLULAR, 0))
                        .awaitReady(java.time.Duration.ofSeconds(5))).as("the standby is ready").isTrue();
            }
            BidirectionalStream stream = connection.openStream();
            stream.getOutputStream().write(1);
            stream.getOutputStream().close();
            java.security.MessageDigest digest = Echo.sha256();
            java.util.concurrent.atomic.AtomicLong lastArrival = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.CompletableFuture<Void> migrated = new java.util.concurrent.CompletableFuture<>();
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            try (java.io.InputStream in = stream.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    digest.update(buffer, 0, n);
                    total += n;
                    lastArrival.set(System.nanoTime());
                    if (total > 2 * 1024 * 1024 && moved.compareAndSet(null, Instant.now())) {
                        // The Wi-Fi uplink dies: the download still arrives there, the acknowledgements no longer
                        // leave. The client moves once the server has filled its window and gone quiet, so that a
                        // whole window the client received is unacknowledged at the move.
                        server.dropDatagramsFrom(address -> address.getAddress().equals(WIFI));
                        java.util.concurrent.CompletableFuture.runAsync(() -> {
                            try {
                                Await.until(() -> System.nanoTime() - lastArrival.get() > 30_000_000L, 5_000,
                                        "the server stops sending into its full window");
                                connection.migrate(new InetSocketAddress(CELLULAR, 0));
                                migrated.complete(null);
                            } catch (Throwable e) {
                                migrated.completeExceptionally(e);
                            }
                        });
                    }
                }
            }
            migrated.get(10, java.util.concurrent.TimeUnit.SECONDS);

            assertThat(total).isEqualTo(SIZE);
            assertThat(digest.digest()).as("SHA-256 of the download").isEqualTo(Echo.sha256(body));
            long duplicate = duplicateStreamBytesSince(received, moved.get());
            long unacknowledged = streamBytesOnSince(received, WIFI, moved.get());
            long cancelled = accepted.first().diagnostics().stallGuardCounters()[4];
            System.out.printf((standby ? "to a standby, " : "") + "stranded data: %d bytes received again after the move; %d received on the old path"
                    + " after its uplink died; %d resends cancelled%n", duplicate, unacknowledged, cancelled);
            // The last acknowledgements went to the dead uplink; the first packet on the new path says what arrived,
            // before the server's resends of it leave (W35).
            java.util.Set<String> probing = java.util.Set.of("path_challenge", "path_response", "padding");
            PacketEvent first = sentOnCellular.stream().filter(p -> !probing.containsAll(p.frameTypes()))
                    .findFirst().orElseThrow();
            assertThat(first.frameTypes()).as("the first packet on the new path").contains("ack");
            // The client acknowledges from the new path what it received on the old one: those resends go.
            assertThat(cancelled).as("resends of data the client acknowledged after the move, cancelled")
                    .isPositive();
            // At most what the server resent before the first acknowledgement from the new path arrived (about an
            // initial window) is sent again; without the cancelling, all it had in flight at the move.
            assertThat(duplicate).as("bytes the server sent again although the client had them (%d received on the"
                    + " old path after its uplink died)", unacknowledged).isLessThan(16 * 1024 + unacknowledged / 2);
        }
    }

    /** The server's side: one stream, one request byte, then the whole body. */
    private static void download(MigratingConnection connection, byte[] body) {
        try {
            BidirectionalStream stream = connection.acceptStream(java.time.Duration.ofSeconds(30));
            try (java.io.InputStream in = stream.getInputStream(); java.io.OutputStream out = stream.getOutputStream()) {
                in.read();
                out.write(body);
            }
        } catch (Exception e) {
            // the client went away; the test fails on its side
        }
    }

    /** STREAM bytes received on {@code local} from {@code since} on. */
    private static long streamBytesOnSince(List<PacketEvent> packets, java.net.InetAddress local, Instant since) {
        long bytes = 0;
        for (PacketEvent packet : packets) {
            if (packet.path().local().getAddress().equals(local) && !packet.time().isBefore(since)) {
                for (PacketEvent.Frame frame : packet.frames()) {
                    if (frame.type().equals("stream")) {
                        bytes += (Long) ((Map<?, ?>) frame.fields().get("raw")).get("payload_length");
                    }
                }
            }
        }
        return bytes;
    }

    /** STREAM bytes received after {@code since} that had been received before (any path), per stream. */
    private static long duplicateStreamBytesSince(List<PacketEvent> packets, Instant since) {
        Map<String, TreeMap<Long, Long>> have = new java.util.HashMap<>(); // stream -> start -> end of ranges held
        long duplicate = 0;
        for (PacketEvent packet : packets) {
            for (PacketEvent.Frame frame : packet.frames()) {
                if (!frame.type().equals("stream")) {
                    continue;
                }
                long start = Long.parseLong(frame.field("offset"));
                long length = (Long) ((Map<?, ?>) frame.fields().get("raw")).get("payload_length");
                TreeMap<Long, Long> ranges = have.computeIfAbsent(frame.field("stream_id"), id -> new TreeMap<>());
                long overlap = overlap(ranges, start, start + length);
                if (!packet.time().isBefore(since)) {
                    duplicate += overlap;
                }
                add(ranges, start, start + length);
            }
        }
        return duplicate;
    }

    private static long overlap(TreeMap<Long, Long> ranges, long start, long end) {
        long total = 0;
        for (Map.Entry<Long, Long> range : ranges.subMap(ranges.floorKey(start) == null ? start : ranges.floorKey(start),
                true, end, false).entrySet()) {
            total += Math.max(0, Math.min(end, range.getValue()) - Math.max(start, range.getKey()));
        }
        return total;
    }

    private static void add(TreeMap<Long, Long> ranges, long start, long end) {
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Long, Long> next = ranges.ceilingEntry(start); next != null && next.getKey() <= end;
             next = ranges.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(start, end);
    }
}
