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
 */
public final class Qpack {

    private Qpack() {
    }

    /** Encodes {@code fields} as a field section (prefix included). */
    public static byte[] encode(List<Map.Entry<String, String>> fields) {
        ByteBuffer block = Encoder.newBuilder().build().compressHeaders(fields);
        // qpack 2.0.1 returns the buffer as written (position at the end), not flipped; accept either.
        int start = block.position() > 0 ? 0 : block.position();
        int length = block.position() > 0 ? block.position() : block.remaining();
        byte[] encoded = new byte[length];
        System.arraycopy(block.array(), block.arrayOffset() + start, encoded, 0, length);
        return encoded;
    }

    /**
     * Decodes a field section.
     *
     * @throws IOException if it is malformed
     */
    public static List<Map.Entry<String, String>> decode(byte[] block) throws IOException {
        try {
            return Decoder.newBuilder().build().decodeStream(new ByteArrayInputStream(block));
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
