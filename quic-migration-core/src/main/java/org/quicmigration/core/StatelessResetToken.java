package org.quicmigration.core;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/** A 16-byte stateless reset token (RFC 9000 10.3). Immutable value. */
public final class StatelessResetToken {

    public static final int LENGTH = 16;

    private final byte[] bytes;

    private StatelessResetToken(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a stateless reset token has 16 bytes, got " + bytes.length);
        }
        this.bytes = bytes;
    }

    public static StatelessResetToken of(byte[] bytes) {
        return new StatelessResetToken(bytes.clone());
    }

    public static StatelessResetToken random(RandomGenerator random) {
        byte[] bytes = new byte[LENGTH];
        random.nextBytes(bytes);
        return new StatelessResetToken(bytes);
    }

    /**
     * True if the last 16 bytes of {@code datagram[0, length)} equal this token. Constant time, as RFC 9000 10.3.1
     * recommends ("an endpoint ... SHOULD use a comparison that does not leak information").
     */
    public boolean matchesTailOf(byte[] datagram, int length) {
        if (length < LENGTH) {
            return false;
        }
        int difference = 0;
        for (int i = 0; i < LENGTH; i++) {
            difference |= bytes[i] ^ datagram[length - LENGTH + i];
        }
        return difference == 0;
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof StatelessResetToken token && MessageDigest.isEqual(bytes, token.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
