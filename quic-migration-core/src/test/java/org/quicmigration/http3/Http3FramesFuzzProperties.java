package org.quicmigration.http3;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.quicmigration.Fuzz;

/**
 * The HTTP/3 layer's reading of a request or response stream (RFC 9114 7) under frames a peer can send: DATA,
 * HEADERS with any :status or :method, SETTINGS and HTTP/2's reserved types where they do not belong, unknown and
 * grease types, varints in every size, lengths that match, point past the end or say 2^62 - 1, then all of it
 * truncated, bit-flipped, overwritten, and noise. Reading the message and its whole body returns or throws an
 * IOException (this layer's {@link Http3Exception} for a malformed message), within a time and an allocation
 * bounded by the bytes given; a response read has a final status from 200 to 599; a body is exactly its DATA.
 */
class Http3FramesFuzzProperties {

    private static final List<String> STATUSES = List.of("200", "404", "599", "100", "103", "+200", "-1", "099",
            "600", "2000", "20", "", "abc", " 200");

    @BeforeContainer
    static void warmUp() {
        Fuzz.warmUp(() -> Http3Client.readResponse(new ByteArrayInputStream(headers(List.of(Map.entry(":status", "200")))))
                .readBody());
    }

    @Property(tries = 250)
    void aResponseStreamIsReadOrFailsWithAnIoException(@ForAll("streams") byte[] stream) {
        Fuzz.Outcome<Integer> read = Fuzz.run(() -> {
            Http3Response response = Http3Client.readResponse(new ByteArrayInputStream(stream));
            response.readBody();
            return response.status();
        }).failedOnlyWith(IOException.class).allocatedAtMost(64L * stream.length + Fuzz.ALLOCATION_SLACK);

        if (read.value() != null) {
            assertThat(read.value()).as("final status of a response read").isBetween(200, 599);
        }
    }

    @Property(tries = 250)
    void aRequestStreamIsReadOrFailsWithAnIoException(@ForAll("streams") byte[] stream) {
        Fuzz.Outcome<Http3Request> read = Fuzz.run(() -> {
            Http3Request request = Http3Server.readRequest(new ByteArrayInputStream(stream));
            request.body().readAllBytes();
            return request;
        }).failedOnlyWith(IOException.class).allocatedAtMost(64L * stream.length + Fuzz.ALLOCATION_SLACK);

        if (read.value() != null) {
            assertThat(read.value().header(":method")).as("the :method of a request read").isPresent();
        }
    }

    @Property(tries = 200)
    void aBodyIsExactlyItsDataFramesWhateverIsBetweenThem(@ForAll("bodies") List<byte[]> data,
                                                          @ForAll("ignorable") List<byte[]> between,
                                                          @ForAll boolean trailers) throws IOException {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(headers(List.of(Map.entry(":status", "200"))));
        for (int i = 0; i < data.size(); i++) {
            stream.writeBytes(frame(0x00, data.get(i)));
            if (i < between.size()) {
                stream.writeBytes(between.get(i));
            }
        }
        if (trailers) {
            stream.writeBytes(headers(List.of(Map.entry("x-trailer", "1"))));
        }

        Http3Response response = Http3Client.readResponse(new ByteArrayInputStream(stream.toByteArray()));

        assertThat(response.readBody()).as("the body").isEqualTo(Fuzz.concat(data));
    }

    // ---- generators ----

    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<byte[]> frames = frame().list().ofMinSize(1).ofMaxSize(5).map(Fuzz::concat);
        return Arbitraries.frequencyOf(Tuple.of(3, frames), Tuple.of(7, Fuzz.damaged(frames)));
    }

    @Provide
    Arbitrary<List<byte[]>> bodies() {
        return Fuzz.noise(300).list().ofMaxSize(5);
    }

    /** Frames a message may carry that are not its content: unknown and grease types (RFC 9114 7.2.8, 9). */
    @Provide
    Arbitrary<List<byte[]>> ignorable() {
        Arbitrary<Long> types = Arbitraries.oneOf(Arbitraries.of(0x21L, 0x40L, 0x1234L),
                Arbitraries.longs().between(0, 1000).map(n -> 0x1f * n + 0x21));
        return Combinators.combine(types, Fuzz.noise(40)).as(Http3FramesFuzzProperties::frame).list().ofMaxSize(5);
    }

    private Arbitrary<byte[]> frame() {
        Arbitrary<Long> types = Arbitraries.frequency(Tuple.of(4, 0x00L), Tuple.of(4, 0x01L), Tuple.of(1, 0x04L),
                Tuple.of(1, 0x02L), Tuple.of(1, 0x07L), Tuple.of(1, 0x21L), Tuple.of(1, 0x3fL), Tuple.of(1, 0x1f * 7L + 0x21));
        Arbitrary<byte[]> fieldSections = Combinators.combine(Arbitraries.of(STATUSES),
                        Arbitraries.of("GET", "POST", ""), Arbitraries.of(true, false))
                .as((status, method, request) -> qpack(request ? List.of(Map.entry(":method", method),
                        Map.entry(":path", "/")) : List.of(Map.entry(":status", status), Map.entry("x", "y"))));
        Arbitrary<byte[]> payloads = Arbitraries.frequencyOf(Tuple.of(3, fieldSections), Tuple.of(2, Fuzz.noise(100)));
        Arbitrary<byte[]> exact = Combinators.combine(types, payloads).as(Http3FramesFuzzProperties::frame);
        Arbitrary<byte[]> lying = Combinators.combine(types.flatMap(Fuzz::varint), Fuzz.lengths().flatMap(Fuzz::varint),
                payloads).as(Fuzz::concat);
        return Arbitraries.frequencyOf(Tuple.of(4, exact), Tuple.of(1, lying));
    }

    private static byte[] frame(long type, byte[] payload) {
        return Fuzz.concat(Fuzz.varint(type, type < 0x40 ? 1 : type < 0x4000 ? 2 : 4),
                Fuzz.varint(payload.length, payload.length < 0x40 ? 1 : 2), payload);
    }

    private static byte[] qpack(List<Map.Entry<String, String>> fields) {
        return org.quicmigration.kwik.Qpack.encode(fields);
    }

    private static byte[] headers(List<Map.Entry<String, String>> fields) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Http3Frames.writeHeaders(out, fields);
        return out.toByteArray();
    }
}
