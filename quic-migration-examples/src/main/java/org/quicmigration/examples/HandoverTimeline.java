package org.quicmigration.examples;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.quicmigration.MigrationEvent;
import org.quicmigration.PacketEvent;

/**
 * What a client saw around one network change, for reading rather than for a number: its migration events, every
 * packet it sent or received from the change on (path, size, frames; for STREAM frames the offset range), and when
 * the application's reads got data. Times are milliseconds from the change. A benchmark's pause says how long;
 * this says what the connection waited for.
 */
final class HandoverTimeline {

    private final ConcurrentLinkedQueue<Object> entries = new ConcurrentLinkedQueue<>();
    private volatile Instant change;
    private volatile long changeNanos;

    /** A packet listener to give the client. */
    void packet(PacketEvent packet) {
        entries.add(packet);
    }

    /** A migration listener to give the connection. */
    void migration(MigrationEvent event) {
        entries.add(event);
    }

    /** The application read {@code bytes} bytes, {@code total} in all. */
    void read(int bytes, long total) {
        entries.add(new Read(System.nanoTime(), bytes, total));
    }

    void changed() {
        changeNanos = System.nanoTime();
        change = Instant.now();
    }

    private record Read(long nanos, int bytes, long total) {
    }

    /** The timeline from {@code fromMillis} before the change to {@code toMillis} after it, one line per entry. */
    List<String> lines(long fromMillis, long toMillis) {
        List<String> lines = new ArrayList<>();
        if (change == null) {
            return lines;
        }
        for (Object entry : entries) {
            double at;
            String text;
            if (entry instanceof PacketEvent packet) {
                at = (packet.time().toEpochMilli() - change.toEpochMilli())
                        + (packet.time().getNano() % 1_000_000 - change.getNano() % 1_000_000) / 1e6;
                text = describe(packet);
            } else if (entry instanceof MigrationEvent event) {
                at = (event.time().toEpochMilli() - change.toEpochMilli())
                        + (event.time().getNano() % 1_000_000 - change.getNano() % 1_000_000) / 1e6;
                text = "EVENT " + event;
            } else {
                Read read = (Read) entry;
                at = (read.nanos() - changeNanos) / 1e6;
                text = "READ " + read.bytes() + " bytes, " + read.total() + " in all";
            }
            if (at >= -fromMillis && at <= toMillis) {
                lines.add(String.format(Locale.ROOT, "%9.1f %s", at, text));
            }
        }
        lines.sort((a, b) -> Double.compare(Double.parseDouble(a.substring(0, 9).trim()),
                Double.parseDouble(b.substring(0, 9).trim())));
        return lines;
    }

    /**
     * The server's side for the same window: lines of {@code <epoch ms> <packet>} (as {@link LabRelays} writes them),
     * put on this timeline's clock and marked {@code server}.
     */
    List<String> serverLines(List<String> trace, long fromMillis, long toMillis) {
        List<String> lines = new ArrayList<>();
        if (change == null) {
            return lines;
        }
        double changeMillis = change.toEpochMilli() + change.getNano() % 1_000_000 / 1e6;
        for (String line : trace) {
            int space = line.indexOf(' ');
            double at = Double.parseDouble(line.substring(0, space)) - changeMillis;
            if (at >= -fromMillis && at <= toMillis) {
                lines.add(String.format(Locale.ROOT, "%9.1f server %s", at, line.substring(space + 1)));
            }
        }
        return lines;
    }

    /** One packet on one line: direction, path, number, size, frames (STREAM frames as an offset range). */
    static String describe(PacketEvent packet) {
        StringBuilder text = new StringBuilder(packet.direction() == PacketEvent.Direction.SENT ? "SENT " : "RECV ");
        text.append(packet.path().local()).append(packet.direction() == PacketEvent.Direction.SENT ? " -> " : " <- ")
                .append(packet.path().remote()).append(" #").append(packet.packetNumber()).append(' ')
                .append(packet.size()).append("B");
        long streamBytes = 0;
        long lowest = Long.MAX_VALUE;
        long highest = -1;
        for (PacketEvent.Frame frame : packet.frames()) {
            if (frame.type().equals("stream")) {
                long offset = Long.parseLong(frame.field("offset"));
                Object raw = frame.fields().get("raw");
                long length = raw instanceof java.util.Map<?, ?> map && map.get("payload_length") instanceof Long l ? l : 0;
                streamBytes += length;
                lowest = Math.min(lowest, offset);
                highest = Math.max(highest, offset + length);
            } else if (!frame.type().equals("padding")) {
                text.append(' ').append(frame.type());
                if (frame.type().equals("ack")) {
                    text.append(frame.fields().get("acked_ranges"));
                }
            }
        }
        if (highest >= 0) {
            text.append(String.format(Locale.ROOT, " stream[%d..%d) %dB", lowest, highest, streamBytes));
        }
        return text.toString();
    }
}
