package org.quicmigration.qlog;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationState;
import org.quicmigration.core.trace.PeerParameters;
import org.quicmigration.core.trace.TracedFrame;
import org.quicmigration.core.trace.TracedPacket;

/**
 * The qlog file of one connection, as seen by one endpoint: {@code <original DCID>_<client|server>.sqlog}, in
 * qlog's JSON-SEQ serialisation (draft-ietf-quic-qlog-main-schema; each record is 0x1E, a JSON object, 0x0A),
 * with events named as in draft-ietf-quic-qlog-quic-events-13.
 *
 * <p>Every method may be called on any thread and returns at once: it queues the event for the one qlog writer
 * thread, which formats and writes it. Each path (4-tuple) gets a tuple ID, "0" for the first; every packet
 * event names its tuple, and a {@code quic:tuple_assigned} event is written when a tuple is first seen, when the
 * connection ID used on it in either direction changes, and (without endpoints) when it is abandoned.
 */
public final class QlogFile {

    /** The event schema this writer follows; draft implementations append "-" and the draft number. */
    public static final String EVENT_SCHEMA = "urn:ietf:params:qlog:events:quic-13";
    /** JSON-SEQ qlog files (main schema). */
    public static final String FILE_SCHEMA = "urn:ietf:params:qlog:file:sequential";
    static final String SERIALIZATION_FORMAT = "application/qlog+json-seq";

    private static final char RECORD_SEPARATOR = 0x1E;
    private static final HexFormat HEX = HexFormat.of();

    private record StateChange(Instant time, MigrationState from, MigrationState to, Tuple tuple) {
    }

    private record IdChange(Instant time, ConnectionId from, ConnectionId to) {
    }

    private record Parameters(Instant time, PeerParameters peer, Boolean localDisableActiveMigration,
                              org.quicmigration.core.trace.PreferredAddress localPreferredAddress) {
    }

    private record Close() {
    }

    private static final class TupleState {
        final String id;
        String localId;
        String remoteId;
        boolean abandoned;

        TupleState(String id) {
            this.id = id;
        }
    }

    private final Path path;
    private final boolean server;
    private final AtomicLong dropped = new AtomicLong();

    // Writer thread only.
    private Writer out;
    private final StringBuilder line = new StringBuilder(512);
    private final Map<Tuple, TupleState> tuples = new HashMap<>();
    private Tuple activeTuple;
    private boolean failed;

    private QlogFile(Path path, boolean server, Writer out) {
        this.path = path;
        this.server = server;
        this.out = out;
    }

    /**
     * Creates {@code directory} if needed and the connection's file in it, and queues its header.
     *
     * @throws IOException if the file cannot be created
     */
    public static QlogFile create(Path directory, boolean server, ConnectionId originalDestinationId) throws IOException {
        Files.createDirectories(directory);
        String name = HEX.formatHex(originalDestinationId.bytes()) + (server ? "_server" : "_client") + ".sqlog";
        Path path = directory.resolve(name);
        Writer out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        QlogFile file = new QlogFile(path, server, out);
        file.submit(originalDestinationId);
        return file;
    }

    /** Waits until every event queued so far, in every file, is written and flushed. */
    public static boolean drain(Duration timeout) throws InterruptedException {
        return QlogWriterThread.instance().drain(timeout);
    }

    public Path path() {
        return path;
    }

    /** Events lost because the writer fell more than {@value QlogWriterThread#QUEUE_CAPACITY} events behind. */
    public long droppedEvents() {
        return dropped.get();
    }

    public void packet(TracedPacket packet) {
        submit(packet);
    }

    /** {@code quic:migration_state_updated}; {@code from} may be null. */
    public void migrationState(MigrationState from, MigrationState to, Tuple tuple) {
        submit(new StateChange(Instant.now(), from, to, tuple));
    }

    /** {@code quic:connection_id_updated}: we now send with the peer's connection ID {@code to}. */
    public void peerConnectionIdUpdated(ConnectionId from, ConnectionId to) {
        submit(new IdChange(Instant.now(), from, to));
    }

    /** {@code quic:parameters_set} with the peer's parameters (initiator remote). */
    public void peerParameters(PeerParameters parameters) {
        submit(new Parameters(Instant.now(), parameters, null, null));
    }

    /**
     * {@code quic:parameters_set} with our disable_active_migration and, if we offered one, our preferred_address
     * (initiator local).
     */
    public void localParameters(boolean disableActiveMigration, org.quicmigration.core.trace.PreferredAddress preferred) {
        submit(new Parameters(Instant.now(), null, disableActiveMigration, preferred));
    }

    /** Writes what is queued and closes the file. */
    public void close() {
        while (!QlogWriterThread.instance().offer(this, new Close())) {
            Thread.onSpinWait(); // the close must not be lost, or the file stays open; the writer drains fast
        }
    }

    private void submit(Object event) {
        if (!QlogWriterThread.instance().offer(this, event)) {
            dropped.incrementAndGet();
        }
    }

    // ---- writer thread -----------------------------------------------------------------------------------------

    boolean isOpen() {
        return out != null;
    }

    void flush() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                fail(e);
            }
        }
    }

    void write(Object event) {
        if (out == null) {
            return;
        }
        if (event instanceof Close) {
            try {
                out.close();
            } catch (IOException e) {
                // nothing more to lose
            }
            out = null;
            return;
        }
        line.setLength(0);
        line.append(RECORD_SEPARATOR);
        if (event instanceof ConnectionId originalDestinationId) {
            header(originalDestinationId);
        } else if (event instanceof TracedPacket packet) {
            packet(packet, line);
        } else if (event instanceof StateChange change) {
            stateChange(change, line);
        } else if (event instanceof IdChange change) {
            Json json = event(line, change.time(), "quic:connection_id_updated", null);
            json.field("initiator", "remote");
            if (change.from() != null) {
                json.field("old", change.from().toString());
            }
            json.field("new", change.to().toString()).close().close();
        } else if (event instanceof Parameters parameters) {
            parameters(parameters, line);
        }
        line.append('\n');
        try {
            out.append(line);
        } catch (IOException e) {
            fail(e);
        }
    }

    private void fail(IOException e) {
        if (!failed) {
            failed = true;
            System.getLogger(QlogFile.class.getName()).log(System.Logger.Level.WARNING,
                    "qlog file " + path + " cannot be written; its connection goes on without qlog", e);
        }
        try {
            out.close();
        } catch (IOException ignored) {
            // already failing
        }
        out = null;
    }

    private void header(ConnectionId originalDestinationId) {
        String odcid = originalDestinationId.toString();
        Json json = new Json(line).open();
        json.field("file_schema", FILE_SCHEMA)
                .field("serialization_format", SERIALIZATION_FORMAT)
                .field("title", "quic-migration " + (server ? "server" : "client") + " " + odcid)
                .open("trace")
                .open("common_fields")
                .field("group_id", odcid)
                .field("time_format", "relative_to_epoch")
                .open("reference_time").field("clock_type", "system").field("epoch", "1970-01-01T00:00:00.000Z").close()
                .close()
                .open("vantage_point").field("name", "quic-migration").field("type", server ? "server" : "client").close()
                .openArray("event_schemas");
        json.value(null, EVENT_SCHEMA);
        json.closeArray().close().close();
    }

    /** Starts an event record; the caller adds data fields and closes data and the record. */
    private Json event(StringBuilder into, Instant time, String name, String tupleId) {
        Json json = new Json(into).open();
        // Milliseconds since the Unix epoch, qlog's default reference time; a double keeps about 0.25 us of
        // resolution at today's values. (A per-file epoch would make a server's events negative: its packets are
        // traced from before the connection, and so its file, exists.)
        json.millis("time", time.toEpochMilli(), (time.getNano() / 1_000) % 1_000).field("name", name);
        if (tupleId != null) {
            json.field("tuple", tupleId);
        }
        return json.open("data");
    }

    private void packet(TracedPacket packet, StringBuilder into) {
        TupleState tuple = tuples.get(packet.tuple());
        if (tuple == null) {
            tuple = newTuple(packet.tuple()); // its tuple_assigned follows, with this packet's connection ID
        }
        String id = packet.destination().toString();
        boolean changed = packet.sent() ? !id.equals(tuple.remoteId) : !id.equals(tuple.localId);
        if (changed || tuple.abandoned) {
            if (packet.sent()) {
                tuple.remoteId = id;
            } else {
                tuple.localId = id;
            }
            tuple.abandoned = false;
            tupleAssigned(packet.time(), packet.tuple(), tuple, into);
            into.append('\n').append(RECORD_SEPARATOR);
        }
        Json json = event(into, packet.time(), packet.sent() ? "quic:packet_sent" : "quic:packet_received", tuple.id);
        json.open("header").field("packet_type", packet.type().qlogName());
        if (packet.packetNumber() >= 0) {
            json.field("packet_number", packet.packetNumber());
        }
        json.field("dcid", id).close();
        json.open("raw").field("length", packet.size()).close();
        json.openArray("frames");
        for (TracedFrame frame : packet.frames()) {
            frame(json, frame);
        }
        json.closeArray().close().close();
    }

    private static void frame(Json json, TracedFrame frame) {
        json.open().field("frame_type", frame.qlogType());
        if (frame instanceof TracedFrame.PathChallenge challenge) {
            json.hex("data", challenge.data());
        } else if (frame instanceof TracedFrame.PathResponse response) {
            json.hex("data", response.data());
        } else if (frame instanceof TracedFrame.NewConnectionId newId) {
            json.field("sequence_number", newId.sequenceNumber())
                    .field("retire_prior_to", newId.retirePriorTo())
                    .field("connection_id_length", newId.connectionId().length())
                    .field("connection_id", newId.connectionId().toString())
                    .hex("stateless_reset_token", newId.resetToken());
        } else if (frame instanceof TracedFrame.RetireConnectionId retire) {
            json.field("sequence_number", retire.sequenceNumber());
        } else if (frame instanceof TracedFrame.Padding padding) {
            json.open("raw").field("payload_length", padding.length()).close();
        } else if (frame instanceof TracedFrame.Other other) {
            for (Map.Entry<String, Object> field : other.fields().entrySet()) {
                json.value(field.getKey(), field.getValue());
            }
        }
        json.close();
    }

    private void stateChange(StateChange change, StringBuilder into) {
        TupleState tuple = tupleOf(change.tuple(), change.time(), into);
        Json json = event(into, change.time(), "quic:migration_state_updated", null);
        if (change.from() != null) {
            json.field("old", change.from().qlogName());
        }
        json.field("new", change.to().qlogName()).field("tuple_id", tuple.id);
        json.endpoint("tuple_local", change.tuple().local(), tuple.localId);
        json.endpoint("tuple_remote", change.tuple().remote(), tuple.remoteId);
        json.close().close();
        // The paths left behind: the one a completed migration left, or the one an attempt gave up.
        Tuple left = null;
        if (change.to() == MigrationState.MIGRATION_COMPLETE) {
            left = activeTuple != null && !activeTuple.equals(change.tuple()) ? activeTuple : null;
            activeTuple = change.tuple();
        } else if ((change.to() == MigrationState.PROBING_ABANDONED || change.to() == MigrationState.MIGRATION_ABANDONED)
                && !change.tuple().equals(activeTuple)) {
            left = change.tuple();
        }
        TupleState leftState = left == null ? null : tuples.get(left);
        if (leftState != null && !leftState.abandoned) {
            leftState.abandoned = true;
            into.append('\n').append(RECORD_SEPARATOR);
            // qlog: a tuple_assigned without endpoints abandons the tuple.
            event(into, change.time(), "quic:tuple_assigned", null).field("tuple_id", leftState.id).close().close();
        }
    }

    /** The tuple's state; the first sight of a tuple writes its tuple_assigned first (and a record separator). */
    private TupleState tupleOf(Tuple tuple, Instant time, StringBuilder into) {
        TupleState state = tuples.get(tuple);
        if (state == null) {
            state = newTuple(tuple);
            tupleAssigned(time, tuple, state, into);
            into.append('\n').append(RECORD_SEPARATOR);
        }
        return state;
    }

    private TupleState newTuple(Tuple tuple) {
        TupleState state = new TupleState(Integer.toString(tuples.size()));
        tuples.put(tuple, state);
        if (activeTuple == null) {
            activeTuple = tuple;
        }
        return state;
    }

    private void tupleAssigned(Instant time, Tuple tuple, TupleState state, StringBuilder into) {
        Json json = event(into, time, "quic:tuple_assigned", null);
        json.field("tuple_id", state.id);
        json.endpoint("tuple_local", tuple.local(), state.localId);
        json.endpoint("tuple_remote", tuple.remote(), state.remoteId);
        json.close().close();
    }

    private void parameters(Parameters parameters, StringBuilder into) {
        Json json = event(into, parameters.time(), "quic:parameters_set", null);
        PeerParameters peer = parameters.peer();
        if (peer == null) {
            json.field("initiator", "local").field("disable_active_migration", parameters.localDisableActiveMigration());
            org.quicmigration.core.trace.PreferredAddress preferred = parameters.localPreferredAddress();
            if (preferred != null) {
                preferredAddress(json, preferred.ipv4(), preferred.ipv6(), preferred.connectionId(),
                        preferred.resetToken());
            }
        } else {
            json.field("initiator", "remote")
                    .field("disable_active_migration", peer.disableActiveMigration())
                    .field("active_connection_id_limit", peer.activeConnectionIdLimit())
                    .field("max_idle_timeout", peer.maxIdleTimeoutMillis())
                    .field("max_ack_delay", peer.maxAckDelayMillis());
            if (peer.preferredConnectionId() != null) {
                preferredAddress(json, peer.preferredAddressV4(), peer.preferredAddressV6(),
                        peer.preferredConnectionId(), peer.preferredResetToken());
            }
        }
        json.close().close();
    }

    private static void preferredAddress(Json json, java.net.InetSocketAddress ipv4, java.net.InetSocketAddress ipv6,
                                         ConnectionId connectionId, byte[] resetToken) {
        json.open("preferred_address");
        if (ipv4 != null) {
            json.field("ip_v4", ipv4.getAddress().getHostAddress()).field("port_v4", ipv4.getPort());
        }
        if (ipv6 != null) {
            json.field("ip_v6", ipv6.getAddress().getHostAddress()).field("port_v6", ipv6.getPort());
        }
        json.field("connection_id", connectionId.toString()).hex("stateless_reset_token", resetToken).close();
    }
}
