package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import org.quicmigration.Fuzz;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.trace.TracedPacket;
import org.quicmigration.qlog.QlogFile;

import tech.kwik.core.crypto.Aead;
import tech.kwik.core.crypto.Aes128Gcm;
import tech.kwik.core.frame.FrameProcessor;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.impl.Role;
import tech.kwik.core.impl.Version;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.PacketMetaData;
import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.packet.ShortHeaderPacket;

/**
 * The packet description for traces and qlog ({@link PacketDescriber}, {@link QlogFile}) of whatever a peer can make
 * Kwik accept: a 1-RTT packet whose payload is generated frames of every type (fields as varints of every size and
 * value, lengths up to 2^62 - 1, byte strings), frames Kwik itself serialised (reason phrases beyond ASCII), and
 * both damaged, sealed and then parsed as Kwik's receiver does. Every packet Kwik accepts is described without an
 * exception, with a frame for each non-PADDING frame, and its qlog record is strict JSON. (Payloads on which Kwik's
 * own frame parsers would allocate up to 2 GiB are left out: see {@link #kwikWouldAllocateAtALengthField}.)
 */
class PacketDescriberFuzzProperties {

    private static final Version V1 = Version.getDefault();
    private static final InetSocketAddress LOCAL = new InetSocketAddress(InetAddress.getLoopbackAddress(), 4433);
    private static final InetSocketAddress REMOTE = new InetSocketAddress(InetAddress.getLoopbackAddress(), 50000);
    private static Path qlogDirectory;

    @BeforeContainer
    static void createDirectory() throws IOException {
        qlogDirectory = Files.createTempDirectory("describer-fuzz");
    }

    @AfterContainer
    static void deleteDirectory() throws IOException {
        try (var files = Files.list(qlogDirectory)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(qlogDirectory);
    }

    @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
    void everyPacketKwikAcceptsIsDescribedAndItsQlogIsStrictJson(@ForAll("payloads") List<byte[]> payloads,
                                                                 @ForAll long seed) throws Exception {
        byte[] secret = new byte[32];
        new Random(seed).nextBytes(secret);
        Aead aead = new Aes128Gcm(V1, Role.Client, false, secret, null, new NullLogger());
        List<TracedPacket> traced = new ArrayList<>();
        for (int i = 0; i < payloads.size(); i++) {
            if (kwikWouldAllocateAtALengthField(payloads.get(i))) {
                Statistics.label("Kwik's parse").collect("not tried");
                continue;
            }
            QuicPacket received = receivedByKwik(payloads.get(i), i, aead);
            if (received == null) {
                Statistics.label("Kwik's parse").collect("refused");
                continue;
            }
            Statistics.label("Kwik's parse").collect("accepted");
            Fuzz.Outcome<TracedPacket> described = Fuzz.run(() -> PacketDescriber.describe(received, false,
                    Instant.now(), LOCAL, REMOTE)).failedOnlyWith();
            long frames = received.getFrames().stream().filter(f -> !(f instanceof tech.kwik.core.frame.Padding)).count();
            assertThat(described.value().frames().stream().filter(f -> !f.qlogType().equals("padding")).count())
                    .as("traced frames of %s", received).isEqualTo(frames);
            traced.add(described.value());
        }
        if (!traced.isEmpty()) {
            assertStrictJson(qlogOf(traced, seed));
        }
    }

    /**
     * Whether some bytes of {@code payload}, read as a 4- or 8-byte varint, say 1 MiB to 2^31 - 1. Kwik 0.10.9's
     * STREAM, CRYPTO, NEW_TOKEN, CONNECTION_CLOSE and DATAGRAM parsers allocate at their length field before checking
     * it against the packet (up to an OutOfMemoryError); that is Kwik's parse, before anything of ours sees the
     * packet, so such payloads are not handed to it here.
     */
    private static boolean kwikWouldAllocateAtALengthField(byte[] payload) {
        for (int i = 0; i < payload.length; i++) {
            int size = 1 << ((payload[i] & 0xff) >> 6);
            if (size >= 4 && i + size <= payload.length) {
                long value = payload[i] & 0x3f;
                for (int j = 1; j < size; j++) {
                    value = (value << 8) | (payload[i + j] & 0xff);
                }
                if (value >= 1 << 20 && value < 1L << 31) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Seals {@code payload} as a 1-RTT packet and parses it as Kwik's receiver does; null if Kwik refuses it. */
    private static QuicPacket receivedByKwik(byte[] payload, long packetNumber, Aead aead) {
        ShortHeaderPacket sent = new ShortHeaderPacket(V1, new byte[]{1, 2, 3, 4, 5, 6, 7, 8}, new Raw(payload));
        sent.setPacketNumber(packetNumber);
        byte[] datagram = sent.generatePacketBytes(aead);
        ShortHeaderPacket received = new ShortHeaderPacket(V1);
        try {
            received.parse(ByteBuffer.wrap(datagram), aead, packetNumber - 1, new NullLogger(), 8);
            return received;
        } catch (Exception e) {
            return null; // Kwik closes the connection or drops the packet; nothing is traced
        }
    }

    private static Path qlogOf(List<TracedPacket> packets, long seed) throws Exception {
        QlogFile file = QlogFile.create(qlogDirectory, false, ConnectionId.of(java.nio.ByteBuffer.allocate(8).putLong(seed).array()));
        for (TracedPacket packet : packets) {
            file.packet(packet);
        }
        file.close();
        assertThat(QlogFile.drain(Duration.ofSeconds(5))).as("qlog written within 5 s").isTrue();
        return file.path();
    }

    private static void assertStrictJson(Path file) throws IOException {
        String content = Files.readString(file, StandardCharsets.UTF_8);
        Files.delete(file);
        String[] records = content.substring(1).split("\u001e", -1);
        for (String record : records) {
            JsonReader reader = new JsonReader(new StringReader(record));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = JsonParser.parseReader(reader);
            assertThat(element.isJsonObject()).as("qlog record %s", record).isTrue();
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<List<byte[]>> payloads() {
        Arbitrary<byte[]> generated = generatedFrame().list().ofMinSize(1).ofMaxSize(4).map(Fuzz::concat);
        Arbitrary<byte[]> kwiks = kwikFrame().list().ofMinSize(1).ofMaxSize(4).map(Fuzz::concat);
        Arbitrary<byte[]> payload = Arbitraries.frequencyOf(Tuple.of(4, generated), Tuple.of(3, kwiks),
                Tuple.of(3, Fuzz.damaged(kwiks)));
        Arbitrary<byte[]> padded = Combinators.combine(payload, Arbitraries.integers().between(0, 30))
                .as((bytes, padding) -> Fuzz.concat(bytes, new byte[padding]));
        return padded.list().ofMinSize(1).ofMaxSize(4);
    }

    /** A frame type of RFC 9000 19 (or RFC 9221's DATAGRAM) followed by varints and byte strings of any size. */
    private Arbitrary<byte[]> generatedFrame() {
        Arbitrary<Integer> types = Arbitraries.oneOf(Arbitraries.integers().between(0x00, 0x1e), Arbitraries.of(0x30, 0x31));
        Arbitrary<byte[]> field = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.longs().between(0, 100).flatMap(Fuzz::varint)),
                Tuple.of(3, Fuzz.lengths().flatMap(Fuzz::varint)),
                Tuple.of(2, sevenBit(24)));
        return Combinators.combine(types, field.list().ofMaxSize(6))
                .as((type, fields) -> Fuzz.concat(new byte[]{(byte) (int) type}, Fuzz.concat(fields)));
    }

    /** Frames as Kwik serialises them, with values a peer may pick. */
    private Arbitrary<byte[]> kwikFrame() {
        Arbitrary<Long> numbers = Arbitraries.longs().between(0, (1L << 30) - 1);
        Arbitrary<String> reasons = Arbitraries.strings().withCharRange((char) 0, (char) 0x7ff).ofMaxLength(30);
        Arbitrary<QuicFrame> frames = Arbitraries.oneOf(
                Combinators.combine(numbers, Arbitraries.of(true, false), reasons)
                        .as((code, application, reason) -> new tech.kwik.core.frame.ConnectionCloseFrame(V1, code, application, reason)),
                Combinators.combine(Arbitraries.integers().between(0, 1000), Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(20))
                        .as((sequence, id) -> new tech.kwik.core.frame.NewConnectionIdFrame(V1, sequence, 0, id)),
                Combinators.combine(Arbitraries.integers().between(0, 1000), numbers, sevenBit(50), Arbitraries.of(true, false))
                        .as((stream, offset, data, fin) -> new tech.kwik.core.frame.StreamFrame(V1, stream, offset, data, fin)),
                numbers.map(largest -> new tech.kwik.core.frame.AckFrame(largest)),
                sevenBit(40).map(tech.kwik.core.frame.NewTokenFrame::new),
                Combinators.combine(numbers, Arbitraries.of(true, false)).as(tech.kwik.core.frame.MaxStreamsFrame::new),
                Combinators.combine(Arbitraries.integers().between(0, 1000), numbers, numbers).as(tech.kwik.core.frame.ResetStreamFrame::new),
                Arbitraries.bytes().array(byte[].class).ofSize(8).map(data -> new tech.kwik.core.frame.PathChallengeFrame(V1, data)),
                Arbitraries.integers().between(0, 1000).map(sequence -> new tech.kwik.core.frame.RetireConnectionIdFrame(V1, sequence)),
                Combinators.combine(numbers, sevenBit(50)).as((offset, data) -> new tech.kwik.core.frame.CryptoFrame(V1, offset, data)));
        return frames.map(frame -> {
            ByteBuffer buffer = ByteBuffer.allocate(2048);
            frame.serialize(buffer);
            return java.util.Arrays.copyOf(buffer.array(), buffer.position());
        });
    }

    /**
     * Bytes below 0x80, which read as a varint say at most 16383: a frame's data that does not make Kwik's parsers
     * allocate (see {@link #kwikWouldAllocateAtALengthField}); lengths of every size come from the length fields.
     */
    private static Arbitrary<byte[]> sevenBit(int maxLength) {
        return Fuzz.noise(maxLength).map(bytes -> {
            byte[] masked = bytes.clone();
            for (int i = 0; i < masked.length; i++) {
                masked[i] &= 0x7f;
            }
            return masked;
        });
    }

    /** A frame that is whatever bytes it is given: the payload of a packet a peer built. */
    private static final class Raw extends QuicFrame {
        private final byte[] bytes;

        Raw(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public void accept(FrameProcessor processor, QuicPacket packet, PacketMetaData metaData) {
        }

        @Override
        public int getFrameLength() {
            return bytes.length;
        }

        @Override
        public void serialize(ByteBuffer buffer) {
            buffer.put(bytes);
        }
    }
}
