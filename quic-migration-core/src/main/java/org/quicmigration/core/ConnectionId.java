package org.quicmigration.core;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * A QUIC connection ID: 0 to 20 bytes (RFC 9000 17.2). Immutable value with a hex {@link #toString()}.
 */
public final class ConnectionId {

    /** RFC 9000 17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes." */
    public static final int MAX_LENGTH = 20;

    private final byte[] bytes;
    private final int hash;

    private ConnectionId(byte[] bytes) {
        if (bytes.length > MAX_LENGTH) {
            throw new IllegalArgumentException("a connection ID has at most 20 bytes, got " + bytes.length);
        }
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** Copies the given bytes. */
    public static ConnectionId of(byte[] bytes) {
        return new ConnectionId(bytes.clone());
    }

    /** Copies {@code length} bytes from {@code offset}. */
    public static ConnectionId of(byte[] source, int offset, int length) {
        return new ConnectionId(Arrays.copyOfRange(source, offset, offset + length));
    }

    /** A random connection ID of the given length (RFC 9000 5.1: IDs MUST NOT be linkable; random ones are not). */
    public static ConnectionId random(int length, RandomGenerator random) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return new ConnectionId(bytes);
    }

    public static ConnectionId fromHex(String hex) {
        return new ConnectionId(HexFormat.of().parseHex(hex));
    }

    public int length() {
        return bytes.length;
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** True if the bytes at {@code offset} of {@code source} equal this ID; allocation-free, for hot paths. */
    public boolean matches(byte[] source, int offset) {
        return offset + bytes.length <= source.length
                && Arrays.equals(bytes, 0, bytes.length, source, offset, offset + bytes.length);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ConnectionId id && Arrays.equals(bytes, id.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
