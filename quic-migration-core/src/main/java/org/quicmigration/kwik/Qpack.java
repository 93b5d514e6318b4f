package org.quicmigration.kwik;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import tech.kwik.qpack.Decoder;
import tech.kwik.qpack.Encoder;

/**
 * Internal: QPACK field sections (RFC 9204) through Kwik's {@code tech.kwik:qpack} library, static table only, for
 * the HTTP/3 layer, which must not import Kwik's packages itself.
 *
 * <p>A field section from the peer is checked here before Kwik's decoder reads it: that decoder allocates every
 * string at the length its prefix says before reading it (a 9-byte section saying 2^30 would cost 1 GiB, one saying
 * 2^31 - 1 an OutOfMemoryError), skips references to the dynamic table, ignores the Required Insert Count, and
 * decodes Huffman strings that hold EOS or end in bad padding into garbage. After the check, every length it reads
 * lies within the section and every reference is to the static table.
 */
public final class Qpack {

    /** RFC 9204 Appendix A: the static table has 99 entries, indexed from 0. */
    private static final int STATIC_TABLE_ENTRIES = 99;
    /** RFC 9204 4.1.1: "QPACK implementations MUST be able to decode integers up to and including 62 bits long." */
    private static final long MAX_INTEGER = (1L << 62) - 1;
    private static final int EOS = 256;
    /**
     * One encoder and one decoder for every stream and thread (docs/kwik-workarounds.md#w37): building either parses
     * qpack's static table from text, about 500 us and 250 kB each time; afterwards neither changes. A decoder's
     * dynamic table is filled only from the peer's encoder stream, which this side never reads, and an encoder's only
     * by entries it is told to insert, which this side never does.
     */
    private static final Encoder ENCODER = Encoder.newBuilder().build();
    private static final Decoder DECODER = Decoder.newBuilder().build();

    private Qpack() {
    }

    /** Encodes {@code fields} as a field section (prefix included). */
    public static byte[] encode(List<Map.Entry<String, String>> fields) {
        ByteBuffer block = ENCODER.compressHeaders(fields);
        // qpack 2.0.1 returns the buffer as written (position at the end), not flipped; accept either.
        int start = block.position() > 0 ? 0 : block.position();
        int length = block.position() > 0 ? block.position() : block.remaining();
        byte[] encoded = new byte[length];
        System.arraycopy(block.array(), block.arrayOffset() + start, encoded, 0, length);
        return encoded;
    }

    /**
     * Decodes a field section. Its work and memory are bounded by the section's length.
     *
     * @throws IOException if it is malformed, refers to the dynamic table (this side's table has capacity 0) or
     *                     breaks one of the decoding rules of RFC 9204 and RFC 7541 5.2
     */
    public static List<Map.Entry<String, String>> decode(byte[] block) throws IOException {
        check(block);
        try {
            return DECODER.decodeStream(new ByteArrayInputStream(block));
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Walks the field section's representations (RFC 9204 4.5) and throws at the first thing Kwik must not see. */
    private static void check(byte[] block) throws IOException {
        Reader in = new Reader(block);
        long requiredInsertCount = in.integer(8);
        boolean negativeBase = in.hasMore() && (in.peek() & 0x80) != 0;
        long deltaBase = in.integer(7);
        // RFC 9204 4.5.1.1: "If the decoder encounters a value of EncodedInsertCount that could not have been
        // produced by a conformant encoder, it MUST treat this as a connection error of type
        // QPACK_DECOMPRESSION_FAILED." With a table capacity of 0 (this side never sends
        // SETTINGS_QPACK_MAX_TABLE_CAPACITY), MaxEntries is 0 and only 0 can be produced.
        if (requiredInsertCount != 0) {
            throw new IOException("Required Insert Count " + requiredInsertCount + " with a dynamic table of capacity 0");
        }
        // RFC 9204 4.5.1.2: "An endpoint MUST treat a field block with a Sign bit of 1 as invalid if the value of
        // Required Insert Count is less than or equal to the value of Delta Base."
        if (negativeBase) {
            throw new IOException("a negative Base (Sign bit 1, Delta Base " + deltaBase + ", Required Insert Count 0)");
        }
        while (in.hasMore()) {
            int first = in.peek();
            if ((first & 0x80) != 0) { // 4.5.2 Indexed Field Line: 1 T Index(6+)
                boolean isStatic = (first & 0x40) != 0;
                staticEntry(isStatic, in.integer(6));
            } else if ((first & 0x40) != 0) { // 4.5.4 Literal Field Line with Name Reference: 0 1 N T Index(4+)
                boolean isStatic = (first & 0x10) != 0;
                staticEntry(isStatic, in.integer(4));
                in.string(7);
            } else if ((first & 0x20) != 0) { // 4.5.6 Literal Field Line with Literal Name: 0 0 1 N H Length(3+)
                in.string(3);
                in.string(7);
            } else { // 4.5.3 and 4.5.5: the post-Base forms, 0001 and 0000, reference the dynamic table
                // RFC 9204 2.2.3: "If the decoder encounters a reference in a field line representation to a dynamic
                // table entry that has already been evicted or that has an absolute index greater than or equal to
                // the declared Required Insert Count (Section 4.5.1), it MUST treat this as a connection error of
                // type QPACK_DECOMPRESSION_FAILED." Required Insert Count is 0 here, so every such reference is one.
                throw new IOException("a post-Base reference to the dynamic table, which has capacity 0");
            }
        }
    }

    private static void staticEntry(boolean isStatic, long index) throws IOException {
        if (!isStatic) {
            // RFC 9204 2.2.3, as above: with Required Insert Count 0, any dynamic table reference is invalid.
            throw new IOException("a reference to entry " + index + " of the dynamic table, which has capacity 0");
        }
        // RFC 9204 3.1: "When the decoder encounters an invalid static table index in a field line representation,
        // it MUST treat this as a connection error of type QPACK_DECOMPRESSION_FAILED."
        if (index >= STATIC_TABLE_ENTRIES) {
            throw new IOException("static table index " + index + "; the table has " + STATIC_TABLE_ENTRIES + " entries");
        }
    }

    /** The field section's bytes, read front to back. */
    private static final class Reader {
        private final byte[] block;
        private int position;

        Reader(byte[] block) {
            this.block = block;
        }

        boolean hasMore() {
            return position < block.length;
        }

        int peek() {
            return block[position] & 0xff;
        }

        /** RFC 7541 5.1: an integer with an N-bit prefix, at most 2^62 - 1 (RFC 9204 4.1.1). */
        long integer(int prefixBits) throws IOException {
            if (!hasMore()) {
                throw new IOException("the field section ends inside an integer");
            }
            int max = (1 << prefixBits) - 1;
            long value = block[position++] & max;
            if (value < max) {
                return value;
            }
            for (int shift = 0; ; shift += 7) {
                if (!hasMore()) {
                    throw new IOException("the field section ends inside an integer");
                }
                int next = block[position++] & 0xff;
                if (shift > 56) {
                    throw new IOException("an integer longer than 62 bits");
                }
                value += (long) (next & 0x7f) << shift;
                if (value > MAX_INTEGER) {
                    throw new IOException("an integer longer than 62 bits");
                }
                if ((next & 0x80) == 0) {
                    return value;
                }
            }
        }

        /** RFC 9204 4.1.2: a string literal whose H flag is the bit above its length's N-bit prefix. */
        void string(int prefixBits) throws IOException {
            boolean huffman = hasMore() && (peek() & (1 << prefixBits)) != 0;
            long length = integer(prefixBits);
            if (length > block.length - position) {
                throw new IOException("a string of " + length + " bytes where " + (block.length - position) + " remain");
            }
            if (huffman) {
                checkHuffman(block, position, (int) length);
            }
            position += (int) length;
        }
    }

    /**
     * RFC 7541 5.2, whose Huffman code RFC 9204 4.1.2 uses: "A padding strictly longer than 7 bits MUST be treated
     * as a decoding error. A padding not corresponding to the most significant bits of the code for the EOS symbol
     * MUST be treated as a decoding error. A Huffman-encoded string literal containing the EOS symbol MUST be
     * treated as a decoding error."
     */
    private static void checkHuffman(byte[] data, int offset, int length) throws IOException {
        int node = 0;
        int pendingBits = 0;
        boolean pendingOnes = true;
        for (int i = offset; i < offset + length; i++) {
            for (int shift = 7; shift >= 0; shift--) {
                int bit = (data[i] >> shift) & 1;
                int next = HUFFMAN_TREE[2 * node + bit];
                pendingBits++;
                pendingOnes &= bit == 1;
                if (next < 0) {
                    if (-next - 1 == EOS) {
                        throw new IOException("a Huffman string holding the EOS symbol");
                    }
                    node = 0;
                    pendingBits = 0;
                    pendingOnes = true;
                } else {
                    node = next;
                }
            }
        }
        if (pendingBits > 7) {
            throw new IOException("Huffman padding of " + pendingBits + " bits");
        }
        if (!pendingOnes) {
            throw new IOException("Huffman padding that is not the start of EOS");
        }
    }

    /** RFC 7541 Appendix B: the code of each symbol, 0 to 255 and EOS (256), right-aligned, and its length in bits. */
    private static final int[] HUFFMAN_CODES = {
            0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
            0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
            0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
            0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
            0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
            0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
            0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
            0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
            0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
            0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
            0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
            0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
            0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
            0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
            0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
            0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
            0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
            0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
            0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
            0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
            0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
            0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
            0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
            0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
            0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
            0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
            0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
            0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
            0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
            0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
            0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
            0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
            0x3fffffff
    };
    private static final byte[] HUFFMAN_LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
            28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
            5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
            24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
            21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
            19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
            26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
            30
    };

    /**
     * The Huffman code of RFC 7541 Appendix B as a binary tree: node n's children are at 2n (bit 0) and 2n + 1 (bit
     * 1), each the index of an inner node or, negative, -(symbol + 1) for a leaf. The code is complete, so every
     * bit leads somewhere.
     */
    private static final int[] HUFFMAN_TREE = huffmanTree();

    private static int[] huffmanTree() {
        int[] tree = new int[2 * HUFFMAN_CODES.length];
        int nodes = 1;
        for (int symbol = 0; symbol < HUFFMAN_CODES.length; symbol++) {
            int node = 0;
            for (int bit = HUFFMAN_LENGTHS[symbol] - 1; bit >= 0; bit--) {
                int slot = 2 * node + ((HUFFMAN_CODES[symbol] >>> bit) & 1);
                if (bit == 0) {
                    tree[slot] = -(symbol + 1);
                } else {
                    if (tree[slot] == 0) {
                        tree[slot] = nodes++;
                    }
                    node = tree[slot];
                }
            }
        }
        return tree;
    }
}
