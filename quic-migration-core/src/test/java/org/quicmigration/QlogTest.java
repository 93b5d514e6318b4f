package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicmigration.ClientMigrationTest.CELLULAR;
import static org.quicmigration.ClientMigrationTest.WIFI;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.quicmigration.qlog.QlogFile;

/**
 * qlog files, as qvis reads them: JSON-SEQ records, every event checked against the field names and types of
 * draft-ietf-quic-qlog-quic-events-13, and one real migration traced on both sides. Also the packet listener.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class QlogTest {

    private static final Pattern HEX = Pattern.compile("([0-9a-f]{2})*");
    private static final Set<String> STATES = Set.of("probing_started", "probing_abandoned", "probing_successful",
            "migration_started", "migration_abandoned", "migration_complete");
    private static final Set<String> PACKET_TYPES = Set.of("initial", "handshake", "0RTT", "1RTT", "retry",
            "version_negotiation", "stateless_reset", "unknown");
    private static final Set<String> FRAME_TYPES = Set.of("padding", "ping", "ack", "reset_stream", "stop_sending",
            "crypto", "new_token", "stream", "max_data", "max_stream_data", "max_streams", "data_blocked",
            "stream_data_blocked", "streams_blocked", "new_connection_id", "retire_connection_id", "path_challenge",
            "path_response", "connection_close", "handshake_done", "datagram");

    @TempDir
    Path directory;

    @Test
    void aMigrationIsTracedOnBothSidesInValidQlog() throws Exception {
        List<PacketEvent> clientPackets = new CopyOnWriteArrayList<>();
        MigrationResult result;
        Path clientFile;
        Path serverFile;
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().qlogDirectory(directory).onConnection(accepted).start()) {
            try (MigratingConnection connection = Echo.client(server).localAddress(new InetSocketAddress(WIFI, 0))
                    .qlogDirectory(directory).packetListener(clientPackets::add).build().connect()) {
                byte[] before = Echo.randomBytes(50_000, 1);
                assertThat(Echo.exchange(connection, before)).isEqualTo(Echo.sha256(before));
                ClientMigrationTest.awaitSpare(connection);
                result = connection.migrate(new InetSocketAddress(CELLULAR, 0)).get(10, TimeUnit.SECONDS);
                byte[] after = Echo.randomBytes(50_000, 2);
                assertThat(Echo.exchange(connection, after)).isEqualTo(Echo.sha256(after));
                clientFile = connection.qlogFile().orElseThrow();
                serverFile = accepted.first().qlogFile().orElseThrow();
            }
        }
        assertThat(QlogFile.drain(Duration.ofSeconds(10))).as("qlog writer caught up").isTrue();
        assertThat(clientFile.getFileName().toString()).endsWith("_client.sqlog");
        assertThat(serverFile.getFileName().toString()).isEqualTo(
                clientFile.getFileName().toString().replace("_client", "_server"));

        List<JsonObject> client = validFile(clientFile, "client");
        List<JsonObject> server = validFile(serverFile, "server");

        // The client: the new tuple, its migration states, the fresh CID, the challenge and its response.
        String newTuple = tupleWithLocalAddress(client, "127.0.0.3");
        assertThat(states(client, newTuple)).containsSubsequence("migration_started", "migration_complete");
        assertThat(events(client, "quic:connection_id_updated")).anySatisfy(event ->
                assertThat(event.getAsJsonObject("data").get("new").getAsString()).isEqualTo(result.newDestinationId()));
        List<String> challenges = pathFrameData(client, "quic:packet_sent", "path_challenge", newTuple);
        // RFC 9000 8.2.3: a response validates if it echoes any challenge sent (one may have been sent again).
        assertThat(challenges).contains(pathFrameData(client, "quic:packet_received", "path_response", newTuple).get(0));
        assertThat(events(client, "quic:parameters_set")).anySatisfy(event ->
                assertThat(event.getAsJsonObject("data").get("disable_active_migration").getAsBoolean()).isFalse());
        String oldTuple = tupleWithLocalAddress(client, "127.0.0.2");
        assertThat(events(client, "quic:tuple_assigned")).as("the old tuple is abandoned").anySatisfy(event -> {
            JsonObject data = event.getAsJsonObject("data");
            assertThat(data.get("tuple_id").getAsString()).isEqualTo(oldTuple);
            assertThat(data.has("tuple_local") || data.has("tuple_remote")).isFalse();
        });

        // The server: it saw the client at its new address, validated it with its own challenge, and followed.
        String serverNewTuple = tupleWithRemoteAddress(server, "127.0.0.3");
        assertThat(states(server, serverNewTuple)).containsSubsequence("migration_started", "migration_complete");
        assertThat(pathFrameData(server, "quic:packet_sent", "path_challenge", serverNewTuple))
                .as("the server challenged the new path").isNotEmpty();
        // The response that came back on the new path answers a challenge the server sent on that path: the client
        // answers each challenge on the path it arrived on (RFC 9000 8.2.2), also the one for the path it left.
        assertThat(pathFrameData(server, "quic:packet_sent", "path_challenge", serverNewTuple)).contains(
                pathFrameData(server, "quic:packet_received", "path_response", serverNewTuple).get(0));
        assertThat(challenges).as("the client's challenge arrived on the new path")
                .contains(pathFrameData(server, "quic:packet_received", "path_challenge", serverNewTuple).get(0));

        // The packet listener saw the same story, handshake included.
        assertThat(clientPackets).anySatisfy(packet -> {
            assertThat(packet.direction()).isEqualTo(PacketEvent.Direction.SENT);
            assertThat(packet.packetType()).isEqualTo("initial");
            assertThat(packet.path().local().getAddress()).isEqualTo(WIFI);
        });
        assertThat(clientPackets).anySatisfy(packet -> {
            assertThat(packet.direction()).isEqualTo(PacketEvent.Direction.SENT);
            assertThat(packet.frameTypes()).contains("path_challenge");
            assertThat(packet.path().local().getAddress()).isEqualTo(CELLULAR);
            assertThat(packet.destinationConnectionId()).isEqualTo(result.newDestinationId());
        });
        assertThat(clientPackets).anySatisfy(packet -> {
            assertThat(packet.direction()).isEqualTo(PacketEvent.Direction.RECEIVED);
            assertThat(packet.frameTypes()).contains("path_response");
            assertThat(packet.path().local().getAddress()).isEqualTo(CELLULAR);
        });
    }

    @Test
    void aServerThatForbidsMigrationTracesBothDirections() throws Exception {
        List<PacketEvent> serverPackets = new CopyOnWriteArrayList<>();
        Path serverFile;
        InetSocketAddress serverAddress;
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().acceptClientMigration(false).qlogDirectory(directory)
                .packetListener(serverPackets::add).onConnection(accepted).start();
             MigratingConnection connection = Echo.client(server).build().connect()) {
            serverAddress = server.localAddress();
            byte[] data = Echo.randomBytes(20_000, 5);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            serverFile = accepted.first().qlogFile().orElseThrow();
        }
        assertThat(QlogFile.drain(Duration.ofSeconds(10))).isTrue();
        List<JsonObject> events = validFile(serverFile, "server");
        assertThat(events(events, "quic:packet_sent")).isNotEmpty();
        assertThat(events(events, "quic:packet_received")).isNotEmpty();
        assertThat(events(events, "quic:parameters_set")).anySatisfy(event ->
                assertThat(event.getAsJsonObject("data").get("disable_active_migration").getAsBoolean()).isTrue());
        for (PacketEvent.Direction direction : PacketEvent.Direction.values()) {
            assertThat(serverPackets).as(direction.name()).anySatisfy(packet -> {
                assertThat(packet.direction()).isEqualTo(direction);
                assertThat(packet.packetType()).isEqualTo("1RTT");
                assertThat(packet.frameTypes()).contains("stream");
                assertThat(packet.path().local()).isEqualTo(serverAddress);
            });
        }
    }

    @Test
    void withoutQlogOrListenersNothingIsWritten() throws Exception {
        try (MigrationServer server = Echo.startServer();
             MigratingConnection connection = Echo.client(server).build().connect()) {
            byte[] data = Echo.randomBytes(10_000, 3);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            assertThat(connection.qlogFile()).isEmpty();
        }
        try (Stream<Path> files = Files.list(directory)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aDirectoryThatCannotBeCreatedLeavesTheConnectionWorking() throws Exception {
        Path notADirectory = Files.writeString(directory.resolve("plain-file"), "x");
        try (MigrationServer server = Echo.startServer();
             MigratingConnection connection = Echo.client(server).qlogDirectory(notADirectory.resolve("qlog"))
                     .build().connect()) {
            byte[] data = Echo.randomBytes(10_000, 4);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            assertThat(connection.qlogFile()).isEmpty();
        }
    }

    // ---- checking files against draft-13 ----

    /** Parses a JSON-SEQ file strictly and checks its header and every event; returns the events. */
    private static List<JsonObject> validFile(Path file, String vantage) throws IOException {
        String content = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(content).as("JSON-SEQ: every record starts with 0x1E").startsWith("\u001e");
        String[] records = content.substring(1).split("\u001e", -1);
        List<JsonObject> parsed = new ArrayList<>();
        for (String record : records) {
            assertThat(record).as("JSON-SEQ: every record ends with a line feed").endsWith("\n");
            JsonReader reader = new JsonReader(new StringReader(record));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = JsonParser.parseReader(reader);
            assertThat(element.isJsonObject()).as("record %s", record).isTrue();
            parsed.add(element.getAsJsonObject());
        }
        JsonObject header = parsed.get(0);
        assertThat(header.get("file_schema").getAsString()).isEqualTo("urn:ietf:params:qlog:file:sequential");
        assertThat(header.get("serialization_format").getAsString()).isEqualTo("application/qlog+json-seq");
        JsonObject trace = header.getAsJsonObject("trace");
        assertThat(trace.getAsJsonArray("event_schemas").get(0).getAsString()).isEqualTo("urn:ietf:params:qlog:events:quic-13");
        assertThat(trace.getAsJsonObject("vantage_point").get("type").getAsString()).isEqualTo(vantage);
        JsonObject common = trace.getAsJsonObject("common_fields");
        assertThat(common.get("time_format").getAsString()).isEqualTo("relative_to_epoch");
        assertThat(common.getAsJsonObject("reference_time").get("clock_type").getAsString()).isEqualTo("system");
        assertThat(file.getFileName().toString()).startsWith(common.get("group_id").getAsString() + "_");

        List<JsonObject> events = parsed.subList(1, parsed.size());
        assertThat(events).as("events in %s", file).hasSizeGreaterThan(20);
        Set<String> assignedTuples = new HashSet<>();
        for (JsonObject event : events) {
            try {
                checkEvent(event, assignedTuples);
            } catch (AssertionError e) {
                throw new AssertionError("invalid event " + event + ": " + e.getMessage(), e);
            }
        }
        return events;
    }

    private static void checkEvent(JsonObject event, Set<String> assignedTuples) {
        assertThat(event.keySet()).isSubsetOf("time", "name", "data", "tuple");
        assertThat(event.get("time").getAsDouble()).isGreaterThanOrEqualTo(0);
        JsonObject data = event.getAsJsonObject("data");
        String name = event.get("name").getAsString();
        switch (name) {
            case "quic:tuple_assigned" -> {
                assertThat(data.keySet()).isSubsetOf("tuple_id", "tuple_local", "tuple_remote");
                assignedTuples.add(data.get("tuple_id").getAsString());
                checkEndpoint(data, "tuple_local");
                checkEndpoint(data, "tuple_remote");
            }
            case "quic:migration_state_updated" -> {
                assertThat(data.keySet()).isSubsetOf("old", "new", "tuple_id", "tuple_local", "tuple_remote");
                assertThat(data.get("new").getAsString()).isIn(STATES);
                if (data.has("old")) {
                    assertThat(data.get("old").getAsString()).isIn(STATES);
                }
                assertThat(data.get("tuple_id").getAsString()).isIn(assignedTuples);
                checkEndpoint(data, "tuple_local");
                checkEndpoint(data, "tuple_remote");
            }
            case "quic:connection_id_updated" -> {
                assertThat(data.keySet()).isSubsetOf("initiator", "old", "new");
                assertThat(data.get("initiator").getAsString()).isIn("local", "remote");
                assertHex(data.get("new"), -1);
                if (data.has("old")) {
                    assertHex(data.get("old"), -1);
                }
            }
            case "quic:parameters_set" -> {
                assertThat(data.get("initiator").getAsString()).isIn("local", "remote");
                assertThat(data.get("disable_active_migration").getAsJsonPrimitive().isBoolean()).isTrue();
                if (data.has("active_connection_id_limit")) {
                    assertThat(data.get("active_connection_id_limit").getAsLong()).isGreaterThanOrEqualTo(2);
                }
                if (data.has("preferred_address")) {
                    JsonObject preferred = data.getAsJsonObject("preferred_address");
                    assertHex(preferred.get("connection_id"), -1);
                    assertHex(preferred.get("stateless_reset_token"), 16);
                }
            }
            case "quic:packet_sent", "quic:packet_received" -> {
                assertThat(data.keySet()).isSubsetOf("header", "frames", "raw");
                assertThat(event.get("tuple").getAsString()).as("a tuple_assigned came first").isIn(assignedTuples);
                JsonObject header = data.getAsJsonObject("header");
                assertThat(header.get("packet_type").getAsString()).isIn(PACKET_TYPES);
                assertThat(header.get("packet_number").getAsLong()).isGreaterThanOrEqualTo(0);
                assertHex(header.get("dcid"), -1);
                assertThat(data.getAsJsonObject("raw").get("length").getAsLong()).isPositive();
                for (JsonElement frame : data.getAsJsonArray("frames")) {
                    checkFrame(frame.getAsJsonObject());
                }
            }
            default -> throw new AssertionError("unexpected event name " + name);
        }
    }

    private static void checkFrame(JsonObject frame) {
        String type = frame.get("frame_type").getAsString();
        assertThat(type).isIn(FRAME_TYPES);
        switch (type) {
            case "path_challenge", "path_response" -> assertHex(frame.get("data"), 8);
            case "new_connection_id" -> {
                assertThat(frame.get("sequence_number").getAsLong()).isNotNegative();
                assertThat(frame.get("retire_prior_to").getAsLong()).isNotNegative();
                assertHex(frame.get("connection_id"), frame.get("connection_id_length").getAsInt());
                assertHex(frame.get("stateless_reset_token"), 16);
            }
            case "retire_connection_id" -> assertThat(frame.get("sequence_number").getAsLong()).isNotNegative();
            case "padding" -> assertThat(frame.getAsJsonObject("raw").get("payload_length").getAsLong()).isPositive();
            case "stream" -> {
                assertThat(frame.get("stream_id").getAsLong()).isNotNegative();
                assertThat(frame.get("offset").getAsLong()).isNotNegative();
            }
            case "crypto" -> {
                assertThat(frame.get("offset").getAsLong()).isNotNegative();
                assertThat(frame.getAsJsonObject("raw")).isNotNull();
            }
            case "ack" -> {
                for (JsonElement range : frame.getAsJsonArray("acked_ranges")) {
                    JsonArray bounds = range.getAsJsonArray();
                    assertThat(bounds.size()).isBetween(1, 2);
                    assertThat(bounds.get(0).getAsLong()).isLessThanOrEqualTo(bounds.get(bounds.size() - 1).getAsLong());
                }
            }
            case "max_data" -> assertThat(frame.get("maximum").getAsLong()).isNotNegative();
            case "max_stream_data" -> {
                assertThat(frame.get("stream_id").getAsLong()).isNotNegative();
                assertThat(frame.get("maximum").getAsLong()).isNotNegative();
            }
            case "max_streams", "streams_blocked" ->
                    assertThat(frame.get("stream_type").getAsString()).isIn("unidirectional", "bidirectional");
            default -> { }
        }
    }

    private static void checkEndpoint(JsonObject data, String name) {
        if (!data.has(name)) {
            return;
        }
        JsonObject endpoint = data.getAsJsonObject(name);
        assertThat(endpoint.keySet()).isSubsetOf("ip_v4", "port_v4", "ip_v6", "port_v6", "connection_ids");
        assertThat(endpoint.has("ip_v4") || endpoint.has("ip_v6")).isTrue();
        String port = endpoint.has("port_v4") ? "port_v4" : "port_v6";
        assertThat(endpoint.get(port).getAsInt()).isBetween(1, 65_535);
        if (endpoint.has("connection_ids")) {
            for (JsonElement id : endpoint.getAsJsonArray("connection_ids")) {
                assertHex(id, -1);
            }
        }
    }

    private static void assertHex(JsonElement value, int bytes) {
        String text = value.getAsString();
        assertThat(text).matches(HEX);
        if (bytes >= 0) {
            assertThat(text).hasSize(2 * bytes);
        }
    }

    // ---- reading the story ----

    private static List<JsonObject> events(List<JsonObject> events, String name) {
        return events.stream().filter(event -> event.get("name").getAsString().equals(name)).toList();
    }

    private static String tupleWithLocalAddress(List<JsonObject> events, String address) {
        return tupleWith(events, "tuple_local", address);
    }

    private static String tupleWithRemoteAddress(List<JsonObject> events, String address) {
        return tupleWith(events, "tuple_remote", address);
    }

    private static String tupleWith(List<JsonObject> events, String side, String address) {
        return events(events, "quic:tuple_assigned").stream()
                .map(event -> event.getAsJsonObject("data"))
                .filter(data -> data.has(side) && data.getAsJsonObject(side).has("ip_v4")
                        && data.getAsJsonObject(side).get("ip_v4").getAsString().equals(address))
                .map(data -> data.get("tuple_id").getAsString())
                .findFirst().orElseThrow(() -> new AssertionError("no tuple with " + side + " " + address));
    }

    private static List<String> states(List<JsonObject> events, String tuple) {
        return events(events, "quic:migration_state_updated").stream()
                .map(event -> event.getAsJsonObject("data"))
                .filter(data -> data.get("tuple_id").getAsString().equals(tuple))
                .map(data -> data.get("new").getAsString())
                .toList();
    }

    /**
     * The data of every {@code frameType} frame in {@code name} packet events on {@code tuple} (null: any), in
     * order; not empty.
     */
    private static List<String> pathFrameData(List<JsonObject> events, String name, String frameType, String tuple) {
        List<String> data = new ArrayList<>();
        for (JsonObject event : events(events, name)) {
            if (tuple != null && !event.get("tuple").getAsString().equals(tuple)) {
                continue;
            }
            for (JsonElement frame : event.getAsJsonObject("data").getAsJsonArray("frames")) {
                if (frame.getAsJsonObject().get("frame_type").getAsString().equals(frameType)) {
                    data.add(frame.getAsJsonObject().get("data").getAsString());
                }
            }
        }
        if (data.isEmpty()) {
            throw new AssertionError("no " + frameType + " in a " + name + " event on tuple " + tuple);
        }
        return data;
    }
}
