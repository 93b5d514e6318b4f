package org.quicmigration.http3;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.quicmigration.kwik.Qpack;

/** HTTP/3 framing (RFC 9114 7) and QUIC variable-length integers (RFC 9000 16). */
final class Http3Frames {

    static final long DATA = 0x00;
    static final long HEADERS = 0x01;
    static final long SETTINGS = 0x04;
    /** Unidirectional stream type of a control stream (RFC 9114 6.2.1). */
    static final long CONTROL_STREAM = 0x00;
    /** RFC 9114 8.1: a malformed request or response, a stream error. */
    static final long H3_MESSAGE_ERROR = 0x10e;
    /** RFC 9204 6: "The decoder failed to interpret an encoded field section". */
    static final long QPACK_DECOMPRESSION_FAILED = 0x200;
    /** A HEADERS frame larger than this is refused rather than buffered. */
    static final long MAX_HEADERS_FRAME = 64 * 1024;

    private Http3Frames() {
    }

    /** Reads a variable-length integer, or returns -1 at a clean end of stream. */
    static long readVarintOrEnd(InputStream in) throws IOException {
        int first = in.read();
        if (first < 0) {
            return -1;
        }
        int length = 1 << (first >> 6);
        long value = first & 0x3f;
        for (int i = 1; i < length; i++) {
            int next = in.read();
            if (next < 0) {
                throw new EOFException("stream ended inside a variable-length integer");
            }
            value = (value << 8) | next;
        }
        return value;
    }

    static long readVarint(InputStream in) throws IOException {
        long value = readVarintOrEnd(in);
        if (value < 0) {
            throw new EOFException("stream ended where an HTTP/3 frame was expected");
        }
        return value;
    }

    static void writeVarint(OutputStream out, long value) throws IOException {
        if (value < 0x40) {
            out.write((int) value);
        } else if (value < 0x4000) {
            out.write((int) (0x40 | (value >>> 8)));
            out.write((int) value);
        } else if (value < 0x4000_0000L) {
            out.write((int) (0x80 | (value >>> 24)));
            out.write((int) (value >>> 16));
            out.write((int) (value >>> 8));
            out.write((int) value);
        } else {
            for (int shift = 56; shift >= 0; shift -= 8) {
                int b = (int) (value >>> shift);
                out.write(shift == 56 ? 0xc0 | (b & 0x3f) : b);
            }
        }
    }

    static void writeFrameHeader(OutputStream out, long type, long length) throws IOException {
        writeVarint(out, type);
        writeVarint(out, length);
    }

    /** Skips {@code length} bytes of a frame this layer does not handle (RFC 9114 9: unknown types are ignored). */
    static void skip(InputStream in, long length) throws IOException {
        long left = length;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("stream ended inside an HTTP/3 frame");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    /** Writes a HEADERS frame with {@code fields} QPACK-coded from the static table. */
    static void writeHeaders(OutputStream out, List<Map.Entry<String, String>> fields) throws IOException {
        byte[] block = Qpack.encode(fields);
        writeFrameHeader(out, HEADERS, block.length);
        out.write(block);
    }

    /** Reads the payload of a HEADERS frame of {@code length} bytes and decodes its field section. */
    static List<Map.Entry<String, String>> readHeaders(InputStream in, long length) throws IOException {
        if (length > MAX_HEADERS_FRAME) {
            throw new Http3Exception("HEADERS frame of " + length + " bytes exceeds " + MAX_HEADERS_FRAME);
        }
        byte[] block = in.readNBytes((int) length);
        if (block.length < length) {
            throw new EOFException("stream ended inside a HEADERS frame");
        }
        try {
            return Qpack.decode(block);
        } catch (IOException e) {
            // RFC 9204 2.2.3, 3.1, 4.5.1.1: the failures Qpack.decode reports MUST be treated "as a connection error
            // of type QPACK_DECOMPRESSION_FAILED"; the others leave the decoder unable to continue the field section,
            // which is what that error means (RFC 9204 6).
            throw new Http3Exception("malformed QPACK field section: " + e.getMessage(), QPACK_DECOMPRESSION_FAILED);
        }
    }

    /** The first value of the field {@code name} in {@code fields}, if any. */
    static Optional<String> firstValue(List<Map.Entry<String, String>> fields, String name) {
        return fields.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).findFirst();
    }

    /** Opens this endpoint's control stream (RFC 9114 6.2.1) with an empty SETTINGS frame; kept open. */
    static OutputStream openControlStream(org.quicmigration.MigratingConnection connection) throws IOException {
        OutputStream control = connection.openUnidirectionalStream();
        writeVarint(control, CONTROL_STREAM);
        writeFrameHeader(control, SETTINGS, 0);
        control.flush();
        return control;
    }
}
