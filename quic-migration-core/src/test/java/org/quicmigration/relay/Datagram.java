package org.quicmigration.relay;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * One datagram crossing a {@link UdpRelay}, as its {@link Policy} sees it: where it comes from and goes to, its bytes,
 * and its fate so far, which the policy changes: dropped, copied, delayed (each copy on its own) or rewritten. It
 * starts as one copy, sent at once. Used on the relay's I/O thread only; not thread-safe.
 */
public final class Datagram {

    /** Which way a datagram travels. */
    public enum Direction { TO_SERVER, TO_CLIENT }

    private final Direction direction;
    private final InetSocketAddress inside;
    private final InetSocketAddress outside;
    private byte[] bytes;
    private long[] delays = new long[1];
    private int copies = 1;

    Datagram(Direction direction, InetSocketAddress inside, InetSocketAddress outside, byte[] bytes) {
        this.direction = direction;
        this.inside = inside;
        this.outside = outside;
        this.bytes = bytes;
    }

    /** Towards the server or towards the client. */
    public Direction direction() {
        return direction;
    }

    /** The client's address: where it comes from (towards the server) or where it goes (towards the client). */
    public InetSocketAddress inside() {
        return inside;
    }

    /** The address of the binding it crosses: where the server sees the client. */
    public InetSocketAddress outside() {
        return outside;
    }

    /** The datagram's bytes as they will be sent; the array must not be changed, {@link #rewrite} replaces it. */
    public byte[] bytes() {
        return bytes;
    }

    /** Sends {@code replacement} instead of the bytes so far. */
    public void rewrite(byte[] replacement) {
        this.bytes = replacement;
    }

    /** How many copies will be sent; 0 once dropped. */
    public int copies() {
        return copies;
    }

    /** Sends no copy at all. */
    public void drop() {
        copies = 0;
    }

    /** Adds a copy with the delay of the last copy so far (a later {@link #delay(int, long)} can move it). */
    public void duplicate() {
        if (copies == 0) {
            return;
        }
        if (copies == delays.length) {
            delays = Arrays.copyOf(delays, copies * 2);
        }
        delays[copies] = delays[copies - 1];
        copies++;
    }

    /** Delays copy {@code copy} (0 to {@code copies() - 1}) by {@code nanos} more. */
    public void delay(int copy, long nanos) {
        if (copy < 0 || copy >= copies || nanos < 0) {
            throw new IllegalArgumentException("cannot delay copy " + copy + " of " + copies + " by " + nanos + " ns");
        }
        delays[copy] += nanos;
    }

    /** Delays every copy by {@code nanos} more. */
    public void delay(long nanos) {
        for (int copy = 0; copy < copies; copy++) {
            delay(copy, nanos);
        }
    }

    long delayNanos(int copy) {
        return delays[copy];
    }
}
