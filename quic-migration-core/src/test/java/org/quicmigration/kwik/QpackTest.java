package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.quicmigration.Fuzz;

/** Field sections a peer may send that {@link Qpack#decode} must refuse, with an IOException and little work. */
class QpackTest {

    @Test
    void aStringLengthOfTwoGigabytesFailsWithAnIoException() {
        // Prefix 0, 0; a literal field line with a literal name whose length prefix says 2^31 - 1 (RFC 9204 4.5.6).
        byte[] block = {0x00, 0x00, 0x27, (byte) 0xf8, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};

        Fuzz.run(() -> Qpack.decode(block)).failedOnlyWith(IOException.class);
    }

    @Test
    void aValueLengthOfOneGigabyteIsRefusedWithoutAllocatingIt() {
        // :path (static index 1) with a literal value whose length says 2^30, in a 9-byte field section.
        byte[] block = {0x00, 0x00, 0x51, 0x7f, (byte) 0x81, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x03};
        Fuzz.warmUp(() -> Qpack.decode(new byte[]{0x00, 0x00, (byte) 0xd1}));

        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block));

        decoded.failedOnlyWith(IOException.class).allocatedAtMost(64 * 1024);
        assertThat(decoded.error()).as("a value longer than the field section").isInstanceOf(IOException.class);
    }

    @Test
    void decodingAndEncodingAShortFieldSectionAllocateAFewKilobytesNotTheTables() {
        byte[] block = Qpack.encode(List.of(Map.entry(":status", "200"), Map.entry("x-name", "value")));
        Fuzz.warmUp(() -> Qpack.encode(Qpack.decode(block)));

        Fuzz.Outcome<byte[]> roundTrip = Fuzz.run(() -> Qpack.encode(Qpack.decode(block)));

        roundTrip.failedOnlyWith().allocatedAtMost(16 * 1024);
        assertThat(roundTrip.value()).isEqualTo(block);
    }

    @Test
    void oneDecoderServesStreamsOnManyThreadsAtOnce() throws Exception {
        List<Map.Entry<String, String>> fields = List.of(Map.entry(":method", "GET"), Map.entry(":path", "/a"),
                Map.entry("x-thread-safe", "yes"));
        byte[] block = Qpack.encode(fields);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(threads.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        if (!Qpack.decode(block).equals(fields) || !java.util.Arrays.equals(Qpack.encode(fields), block)) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (java.util.concurrent.Future<Boolean> result : results) {
                assertThat(result.get(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aReferenceToTheDynamicTableIsRefused() {
        // Indexed field line, T = 0: relative index 0 of a dynamic table that, with capacity 0, has no entries.
        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(new byte[]{0x00, 0x00, (byte) 0x80}));

        assertThat(decoded.error()).as("decoding a dynamic reference gave %s", decoded.value())
                .isInstanceOf(IOException.class);
    }

    @Test
    void aRequiredInsertCountAboveZeroIsRefused() {
        // Encoded Required Insert Count 1, then :method GET (static index 17): no encoder with a table of capacity 0
        // produces that prefix.
        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(new byte[]{0x01, 0x00, (byte) 0xd1}));

        assertThat(decoded.error()).as("decoding Required Insert Count 1 gave %s", decoded.value())
                .isInstanceOf(IOException.class);
    }

    @Test
    void aHuffmanStringHoldingTheEosSymbolIsRefused() {
        // :path with a Huffman-coded value of four 0xff bytes: the 30-bit EOS code and two bits of padding.
        byte[] block = {0x00, 0x00, 0x51, (byte) 0x84, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};

        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block));

        assertThat(decoded.error()).as("decoding an EOS symbol gave %s", decoded.value()).isInstanceOf(IOException.class);
    }

    @Test
    void aHuffmanStringPaddedWithZerosIsRefused() {
        // :path with the one-byte Huffman value 0x00: '0' (00000) and three bits of padding that are not 1s.
        byte[] block = {0x00, 0x00, 0x51, (byte) 0x81, 0x00};

        Fuzz.Outcome<List<Map.Entry<String, String>>> decoded = Fuzz.run(() -> Qpack.decode(block));

        assertThat(decoded.error()).as("decoding padding of zeros gave %s", decoded.value()).isInstanceOf(IOException.class);
    }

    @Test
    void aHuffmanStringPaddedWithOnesDecodes() throws Exception {
        // '0' (00000) and the padding 111, the most significant bits of EOS (RFC 7541 5.2).
        assertThat(Qpack.decode(new byte[]{0x00, 0x00, 0x51, (byte) 0x81, 0x07})).containsExactly(Map.entry(":path", "0"));
    }
}
