package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * {@link Qpack#decode} under field sections a peer can send (RFC 9204 4.5): every representation, static and
 * dynamic references, indices past the static table, prefixed integers up to and past 62 bits, string lengths that
 * match, point past the end or say 2^62 - 1, Huffman strings that are valid, hold EOS or end in bad padding, then all
 * of it truncated, bit-flipped, overwritten, and noise. A decode returns field lines or throws an IOException, in a
 * time and with an allocation bounded by the section's length; what decodes is what was encoded; and what RFC 9204
 * and RFC 7541 5.2 say to refuse is refused. The Huffman code used to make inputs is read from Kwik's own table,
 * not from the one {@link Qpack} checks with.
 */
class QpackFuzzProperties {

    private static final int[] CODES = new int[257];
    private static final int[] LENGTHS = new int[257];

    @BeforeContainer
    static void readKwiksHuffmanTable() throws IOException {
        Pattern line = Pattern.compile("\\s([0-9a-f]+)\\s+\\[\\s*(\\d+)\\]");
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                tech.kwik.qpack.impl.Huffman.class.getResourceAsStream("huffmancode.txt"), StandardCharsets.US_ASCII))) {
            int symbol = 0;
            for (String text = in.readLine(); text != null; text = in.readLine()) {
                Matcher matcher = line.matcher(text);
                if (matcher.find()) {
                    CODES[symbol] = Integer.parseInt(matcher.group(1), 16);
                    LENGTHS[symbol++] = Integer.parseInt(matcher.group(2));
                }
            }
            assertThat(symbol).as("symbols in Kwik's Huffman table").isEqualTo(257);
        }
        Fuzz.warmUp(() -> Qpack.decode(new byte[]{0x00, 0x00, (byte) 0xd1, 0x51, (byte) 0x81, 0x07}));
    }

    @Property(tries = 400)
    void anyFieldSectionDecodesOrFailsWithAnIoExceptionWithinItsSize(@ForAll("sections") byte[] block) {
        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block))
                .failedOnlyWith(IOException.class)
                .allocatedAtMost(64L * block.length + Fuzz.ALLOCATION_SLACK);

        if (decoded.value() != null) {
            for (Map.Entry<String, String> field : decoded.value()) {
                assertThat((field.getKey() + field.getValue()).chars().allMatch(c -> c <= 0xff))
                        .as("field line %s decoded from octets", field).isTrue();
            }
        }
    }

    @Property(tries = 150)
    void encodedFieldsDecodeToThemselves(@ForAll("fields") List<Map.Entry<String, String>> fields) throws IOException {
        assertThat(Qpack.decode(Qpack.encode(fields))).as("fields through Kwik's encoder and back").isEqualTo(fields);
    }

    @Property(tries = 150)
    void huffmanCodedFieldsDecodeToThemselves(@ForAll("fields") List<Map.Entry<String, String>> fields)
            throws IOException {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.writeBytes(new byte[]{0x00, 0x00});
        for (Map.Entry<String, String> field : fields) {
            byte[] name = huffman(field.getKey().getBytes(StandardCharsets.ISO_8859_1));
            byte[] value = huffman(field.getValue().getBytes(StandardCharsets.ISO_8859_1));
            block.writeBytes(integer(0x28, 3, name.length)); // literal name, H = 1
            block.writeBytes(name);
            block.writeBytes(integer(0x80, 7, value.length)); // H = 1
            block.writeBytes(value);
        }

        assertThat(Qpack.decode(block.toByteArray())).as("Huffman-coded literals").isEqualTo(fields);
    }

    /** RFC 9204 2.2.3 and 4.5.1.1: with a table of capacity 0, every reference to it and any other prefix is refused. */
    @Property(tries = 200)
    void everyReferenceToTheDynamicTableIsRefused(@ForAll("dynamicReferences") byte[] block) {
        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block));

        assertThat(decoded.error()).as("decoding %s gave %s", hex(block), decoded.value()).isInstanceOf(IOException.class);
    }

    /** RFC 7541 5.2: EOS in a string, padding of 8 bits or more, and padding that is not all 1s are refused. */
    @Property(tries = 200)
    void aHuffmanStringWithEosOrBadPaddingIsRefused(@ForAll("text") String text, @ForAll("badEndings") int ending) {
        byte[] value = huffmanWithEnding(text.getBytes(StandardCharsets.ISO_8859_1), ending);
        byte[] block = Fuzz.concat(new byte[]{0x00, 0x00}, integer(0x50, 4, 1), integer(0x80, 7, value.length), value);

        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block));

        assertThat(decoded.error()).as("decoding %s gave %s", hex(block), decoded.value()).isInstanceOf(IOException.class);
    }

    // ---- generators ----

    @Provide
    Arbitrary<byte[]> sections() {
        Arbitrary<byte[]> prefix = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(new byte[]{0x00, 0x00})),
                Tuple.of(1, Combinators.combine(Fuzz.lengths(), Fuzz.lengths())
                        .as((count, delta) -> Fuzz.concat(integer(0, 8, count), integer(0, 7, delta)))),
                Tuple.of(1, Fuzz.lengths().map(delta -> Fuzz.concat(new byte[]{0x00}, integer(0x80, 7, delta)))));
        Arbitrary<byte[]> lines = line().list().ofMaxSize(6).map(Fuzz::concat);
        Arbitrary<byte[]> valid = Combinators.combine(prefix, lines).as(Fuzz::concat);
        return Arbitraries.frequencyOf(Tuple.of(3, valid), Tuple.of(7, Fuzz.damaged(valid)));
    }

    @Provide
    Arbitrary<byte[]> dynamicReferences() {
        Arbitrary<Long> index = Arbitraries.longs().between(0, 300);
        Arbitrary<byte[]> reference = Arbitraries.oneOf(
                index.map(i -> integer(0x80, 6, i)), // indexed, T = 0
                index.map(i -> integer(0x10, 4, i)), // indexed, post-Base
                Combinators.combine(index, string(7)).as((i, value) -> Fuzz.concat(integer(0x40, 4, i), value)),
                Combinators.combine(index, string(7)).as((i, value) -> Fuzz.concat(integer(0x00, 3, i), value)));
        Arbitrary<byte[]> inSection = Combinators.combine(validLines(), reference, validLines())
                .as((before, ref, after) -> Fuzz.concat(new byte[]{0x00, 0x00}, before, ref, after));
        Arbitrary<byte[]> withCount = Combinators.combine(Arbitraries.longs().between(1, 1000), validLines())
                .as((count, lines) -> Fuzz.concat(integer(0, 8, count), new byte[]{0x00}, lines));
        Arbitrary<byte[]> negativeBase = Combinators.combine(Arbitraries.longs().between(0, 1000), validLines())
                .as((delta, lines) -> Fuzz.concat(new byte[]{0x00}, integer(0x80, 7, delta), lines));
        return Arbitraries.oneOf(inSection, withCount, negativeBase);
    }

    @Provide
    Arbitrary<List<Map.Entry<String, String>>> fields() {
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.of(":method", ":path", ":status", ":authority", ":scheme", "content-type", "user-agent"),
                Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789-").ofMinLength(1).ofMaxLength(20));
        Arbitrary<String> values = Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(60);
        return Combinators.combine(names, values).as(Map::entry).list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<String> text() {
        return Arbitraries.strings().withCharRange((char) 0, (char) 0xff).ofMaxLength(30);
    }

    /** 0: EOS after the text; 1: a whole byte of 1s as padding; 2: padding with a 0 bit in it. */
    @Provide
    Arbitrary<Integer> badEndings() {
        return Arbitraries.of(0, 1, 2);
    }

    private Arbitrary<byte[]> validLines() {
        Arbitrary<byte[]> one = Arbitraries.oneOf(
                Arbitraries.longs().between(0, 98).map(i -> integer(0xc0, 6, i)),
                Combinators.combine(Arbitraries.longs().between(0, 98), text())
                        .as((i, value) -> Fuzz.concat(integer(0x50, 4, i), literal(0x80, 7, value, false))));
        return one.list().ofMaxSize(3).map(Fuzz::concat);
    }

    private Arbitrary<byte[]> line() {
        Arbitrary<Long> index = Arbitraries.frequencyOf(Tuple.of(7, Arbitraries.longs().between(0, 98)),
                Tuple.of(2, Arbitraries.longs().between(99, 300)), Tuple.of(1, Fuzz.lengths()));
        return Arbitraries.frequencyOf(
                Tuple.of(3, index.map(i -> integer(0xc0, 6, i))),
                Tuple.of(1, index.map(i -> integer(0x80, 6, i))),
                Tuple.of(1, index.map(i -> integer(0x10, 4, i))),
                Tuple.of(3, Combinators.combine(index, string(7)).as((i, value) -> Fuzz.concat(integer(0x50, 4, i), value))),
                Tuple.of(1, Combinators.combine(index, string(7)).as((i, value) -> Fuzz.concat(integer(0x40, 4, i), value))),
                Tuple.of(1, Combinators.combine(index, string(7)).as((i, value) -> Fuzz.concat(integer(0x00, 3, i), value))),
                Tuple.of(3, Combinators.combine(string(3), string(7)).as((name, value) -> {
                    byte[] line = Fuzz.concat(name, value);
                    line[0] |= 0x20; // 0 0 1 N H NameLength(3+)
                    return line;
                })));
    }

    /** A string literal whose length has a {@code prefixBits}-bit prefix, its H flag just above it. */
    private Arbitrary<byte[]> string(int prefixBits) {
        int flag = 1 << prefixBits;
        return Arbitraries.frequencyOf(
                Tuple.of(3, text().map(value -> literal(flag, prefixBits, value, false))),
                Tuple.of(3, text().map(value -> literal(flag, prefixBits, value, true))),
                Tuple.of(1, Fuzz.noise(20).map(bytes -> Fuzz.concat(integer(flag, prefixBits, bytes.length), bytes))),
                Tuple.of(2, Combinators.combine(Arbitraries.of(0, flag), Fuzz.lengths(), Fuzz.noise(12))
                        .as((huffman, length, bytes) -> Fuzz.concat(integer(huffman, prefixBits, length), bytes))));
    }

    private static byte[] literal(int flag, int prefixBits, String value, boolean huffman) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        byte[] encoded = huffman ? huffman(bytes) : bytes;
        return Fuzz.concat(integer(huffman ? flag : 0, prefixBits, encoded.length), encoded);
    }

    // ---- encoders, after RFC 7541 5.1 and 5.2 ----

    /** RFC 7541 5.1: {@code value} with an N-bit prefix, {@code flags} in the first byte's other bits. */
    static byte[] integer(int flags, int prefixBits, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            out.write(flags | (int) value);
            return out.toByteArray();
        }
        out.write(flags | max);
        long rest = value - max;
        while (rest >= 0x80) {
            out.write((int) (rest & 0x7f) | 0x80);
            rest >>>= 7;
        }
        out.write((int) rest);
        return out.toByteArray();
    }

    static byte[] huffman(byte[] octets) {
        return huffmanWithEnding(octets, -1);
    }

    /** Huffman-codes {@code octets}, then ends as {@code ending} says (-1: the valid padding of 1s). */
    private static byte[] huffmanWithEnding(byte[] octets, int ending) {
        List<int[]> codes = new ArrayList<>();
        for (byte octet : octets) {
            codes.add(new int[]{CODES[octet & 0xff], LENGTHS[octet & 0xff]});
        }
        if (ending == 0) {
            codes.add(new int[]{CODES[256], LENGTHS[256]});
        }
        long bits = 0;
        int count = 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int[] code : codes) {
            for (int bit = code[1] - 1; bit >= 0; bit--) {
                bits = (bits << 1) | ((code[0] >>> bit) & 1);
                if (++count == 8) {
                    out.write((int) bits);
                    bits = 0;
                    count = 0;
                }
            }
        }
        if (count > 0) {
            int padding = 8 - count;
            int pad = (1 << padding) - 1;
            if (ending == 2) {
                pad &= ~1; // a 0 where EOS has a 1
            }
            out.write((int) ((bits << padding) | pad));
        } else if (ending == 2) {
            out.write(0xfe); // 8 bits of padding (11111110 starts no shorter code), not all 1s
        }
        if (ending == 1) {
            out.write(0xff); // a padding of 8 bits or more
        }
        return out.toByteArray();
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
