package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Test helper for the parser fuzz properties: what a peer can make of valid bytes (truncated, bits flipped, bytes
 * overwritten, junk appended, or noise alone), QUIC variable-length integers in every encoding size, and a run of a
 * parse on a thread of its own with a deadline, the bytes it allocated counted by the JVM
 * ({@code com.sun.management.ThreadMXBean}), so an allocation sized by an unchecked length field shows up as a
 * number, not as an OutOfMemoryError.
 */
public final class Fuzz {

    /** Longer than any parse of these inputs should take, even on 2 busy cores. */
    public static final long DEADLINE_MILLIS = 5_000;
    /** What a parse may allocate besides what its input accounts for: class loading and JIT on a first call. */
    public static final long ALLOCATION_SLACK = 512 * 1024;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final ExecutorService PARSER = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "fuzz-parse");
        thread.setDaemon(true);
        return thread;
    });

    private Fuzz() {
    }

    /** What a parse did: its result or what it threw, how many bytes it allocated, and how long it took. */
    public record Outcome<T>(T value, Throwable error, long allocatedBytes, long nanos) {

        /** Fails unless the parse returned or threw one of {@code allowed}. */
        @SafeVarargs
        public final Outcome<T> failedOnlyWith(Class<? extends Throwable>... allowed) {
            if (error != null && Arrays.stream(allowed).noneMatch(type -> type.isInstance(error))) {
                throw new AssertionError("the parse threw " + error + ", none of " + Arrays.toString(allowed), error);
            }
            return this;
        }

        /** Fails if the parse allocated more than {@code bytes}. */
        public Outcome<T> allocatedAtMost(long bytes) {
            assertThat(allocatedBytes).as("bytes allocated by the parse (%s)", error != null ? error : "no error")
                    .isLessThanOrEqualTo(bytes);
            return this;
        }
    }

    /**
     * Runs {@code parse} on the parse thread and waits at most {@link #DEADLINE_MILLIS}; a parse that does not end by
     * then fails the property (and its thread is interrupted).
     */
    public static <T> Outcome<T> run(Callable<T> parse) {
        Future<Outcome<T>> future = PARSER.submit(() -> {
            long id = Thread.currentThread().getId();
            long allocatedBefore = THREADS.getThreadAllocatedBytes(id);
            long start = System.nanoTime();
            T value = null;
            Throwable error = null;
            try {
                value = parse.call();
            } catch (Throwable e) {
                error = e; // judged by the property: only the API's own exceptions are allowed
            }
            long nanos = System.nanoTime() - start;
            return new Outcome<>(value, error, THREADS.getThreadAllocatedBytes(id) - allocatedBefore, nanos);
        });
        try {
            return future.get(DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new AssertionError("the parse did not end within " + DEADLINE_MILLIS + " ms");
        } catch (ExecutionException e) {
            throw new AssertionError("the parse harness failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Runs {@code parse} once so that class loading and static tables are not counted against a property's try. */
    public static void warmUp(Callable<?> parse) {
        run(parse);
    }

    /** Random bytes, mostly short. */
    public static Arbitrary<byte[]> noise(int maxLength) {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(maxLength);
    }

    /**
     * {@code valid} as it is, and what a peer or the network can make of it: truncated anywhere, a few bits flipped,
     * a byte overwritten with 0x00 or 0xff (the largest length a field can say), junk appended, or noise instead.
     */
    public static Arbitrary<byte[]> damaged(Arbitrary<byte[]> valid) {
        Arbitrary<byte[]> truncated = valid.flatMap(bytes -> Arbitraries.integers().between(0, bytes.length)
                .map(length -> Arrays.copyOf(bytes, length)));
        Arbitrary<byte[]> flipped = valid.flatMap(bytes -> flips(bytes.length).map(bits -> flipped(bytes, bits)));
        Arbitrary<byte[]> overwritten = valid.flatMap(bytes -> Combinators.combine(
                        Arbitraries.integers().between(0, Math.max(0, bytes.length - 1)),
                        Arbitraries.of((byte) 0x00, (byte) 0xff, (byte) 0x3f, (byte) 0x7f, (byte) 0xc0))
                .as((position, value) -> overwritten(bytes, position, value)));
        Arbitrary<byte[]> extended = valid.flatMap(bytes -> noise(64).map(junk -> concat(bytes, junk)));
        return Arbitraries.frequencyOf(weighted(2, valid), weighted(3, truncated), weighted(3, flipped),
                weighted(2, overwritten), weighted(1, extended), weighted(1, noise(256)));
    }

    /** A QUIC variable-length integer (RFC 9000 16) of {@code value} in {@code size} bytes (1, 2, 4 or 8). */
    public static byte[] varint(long value, int size) {
        int prefix = switch (size) {
            case 1 -> 0;
            case 2 -> 1;
            case 4 -> 2;
            case 8 -> 3;
            default -> throw new IllegalArgumentException("size " + size);
        };
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            out[size - 1 - i] = (byte) (value >>> (8 * i));
        }
        out[0] = (byte) ((out[0] & 0x3f) | (prefix << 6));
        return out;
    }

    /** {@code value} as a variable-length integer in its shortest encoding, or a longer one. */
    public static Arbitrary<byte[]> varint(long value) {
        int shortest = value < 0x40 ? 1 : value < 0x4000 ? 2 : value < 0x4000_0000L ? 4 : 8;
        return Arbitraries.of(1, 2, 4, 8).filter(size -> size >= shortest).map(size -> varint(value, size));
    }

    /** Lengths a field may say: small ones, ones just past what follows, and the largest a varint can hold. */
    public static Arbitrary<Long> lengths() {
        Arbitrary<Long> small = Arbitraries.longs().between(0, 64);
        Arbitrary<Long> larger = Arbitraries.longs().between(64, 70_000);
        Arbitrary<Long> huge = Arbitraries.of(0x3fffL, 0x3fff_ffffL, Integer.MAX_VALUE - 8L, (long) Integer.MAX_VALUE,
                1L << 31, 1L << 32, (1L << 62) - 1);
        return Arbitraries.frequencyOf(weighted(6, small), weighted(2, larger), weighted(2, huge));
    }

    public static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int position = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, position, part.length);
            position += part.length;
        }
        return out;
    }

    public static byte[] concat(List<byte[]> parts) {
        return concat(parts.toArray(new byte[0][]));
    }

    private static Arbitrary<List<Integer>> flips(int length) {
        if (length == 0) {
            return Arbitraries.just(List.of());
        }
        return Arbitraries.integers().between(0, length * 8 - 1).list().ofMinSize(1).ofMaxSize(3);
    }

    private static byte[] flipped(byte[] bytes, List<Integer> bits) {
        byte[] out = bytes.clone();
        for (int bit : bits) {
            out[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return out;
    }

    private static byte[] overwritten(byte[] bytes, int position, byte value) {
        byte[] out = bytes.clone();
        if (position < out.length) {
            out[position] = value;
        }
        return out;
    }

    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, Arbitrary<? extends T>> weighted(int weight,
                                                                                     Arbitrary<T> arbitrary) {
        return net.jqwik.api.Tuple.of(weight, arbitrary);
    }
}
