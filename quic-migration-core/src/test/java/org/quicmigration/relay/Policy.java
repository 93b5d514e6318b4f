package org.quicmigration.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * What a {@link UdpRelay}'s network does to each datagram of one direction: a function that changes the
 * {@link Datagram}'s fate. Small policies compose with {@link #then}; a policy that changes at run time is a lambda
 * that reads a volatile field. Called on the relay's I/O thread only, so a {@link RandomGenerator} shared by the
 * policies of one relay needs no lock; one that throws stops the relay ({@link UdpRelay#failure()}).
 */
@FunctionalInterface
public interface Policy {

    /** Forwards every datagram at once, unchanged. */
    Policy PASS = datagram -> { };

    /** Changes {@code datagram}'s fate. */
    void apply(Datagram datagram);

    /** This policy, then {@code next} on what is left (nothing once the datagram is dropped). */
    default Policy then(Policy next) {
        return datagram -> {
            apply(datagram);
            if (datagram.copies() > 0) {
                next.apply(datagram);
            }
        };
    }

    /** Drops each datagram with {@code probability} (0 to 1). */
    static Policy drop(double probability, RandomGenerator random) {
        requireProbability(probability, "drop");
        return datagram -> {
            if (random.nextDouble() < probability) {
                datagram.drop();
            }
        };
    }

    /** Drops the datagrams {@code when} accepts. */
    static Policy drop(Predicate<Datagram> when) {
        return datagram -> {
            if (when.test(datagram)) {
                datagram.drop();
            }
        };
    }

    /**
     * A black hole over client networks: drops every datagram from or to an inside address whose IP address is in
     * {@code networks} at that moment (a concurrent set the caller changes at run time).
     */
    static Policy blackHole(Set<InetAddress> networks) {
        return drop(datagram -> networks.contains(datagram.inside().getAddress()));
    }

    /** Sends each datagram twice with {@code probability} (0 to 1); a later delay policy delays each copy alone. */
    static Policy duplicate(double probability, RandomGenerator random) {
        requireProbability(probability, "duplicate");
        return datagram -> {
            if (random.nextDouble() < probability) {
                datagram.duplicate();
            }
        };
    }

    /**
     * Delays each copy by {@code delay} plus a uniform random part of [0, {@code jitter}), drawn per copy, so
     * datagrams can overtake each other when the jitter is larger than the gap between them.
     */
    static Policy delay(Duration delay, Duration jitter, RandomGenerator random) {
        long delayNanos = requireNonNegative(delay, "delay");
        long jitterNanos = requireNonNegative(jitter, "jitter");
        return datagram -> {
            for (int copy = 0; copy < datagram.copies(); copy++) {
                long extra = jitterNanos > 0 ? (long) (random.nextDouble() * jitterNanos) : 0;
                datagram.delay(copy, delayNanos + extra);
            }
        };
    }

    /** Adds each datagram's length, once whatever its copies, to {@code bytesByOutside} under its outside address. */
    static Policy countBytes(Map<InetSocketAddress, LongAdder> bytesByOutside) {
        return datagram -> bytesByOutside.computeIfAbsent(datagram.outside(), address -> new LongAdder())
                .add(datagram.bytes().length);
    }

    private static void requireProbability(double probability, String what) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException(what + " probability must be between 0 and 1, not " + probability);
        }
    }

    private static long requireNonNegative(Duration value, String what) {
        if (value.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + value);
        }
        return value.toNanos();
    }
}
