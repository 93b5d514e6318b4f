package org.quicmigration;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/** The checks the builders make of what they are given; each throws at the call that gave the bad value. */
final class Arguments {

    private Arguments() {
    }

    static String requireText(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }

    static Duration requirePositive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + value);
        }
        return value;
    }

    /** {@code value}, if from {@code min} to {@code max}; {@code what} names it in the exception. */
    static long requireBetween(long value, long min, long max, String what) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be " + (max == Long.MAX_VALUE ? "at least " + min
                    : min + "-" + max) + ", was " + value);
        }
        return value;
    }

    /** {@code value}, if set; else an IllegalStateException saying {@code required}. */
    static <T> T requireSet(T value, String required) {
        if (value == null) {
            throw new IllegalStateException(required);
        }
        return value;
    }

    /** The server's preferred addresses: at least one, each (null: none) a concrete address of its family. */
    static void checkPreferred(InetSocketAddress ipv4, InetSocketAddress ipv6) {
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("a preferred address needs an IPv4 or an IPv6 address");
        }
        checkPreferred(ipv4, java.net.Inet4Address.class, "IPv4");
        checkPreferred(ipv6, java.net.Inet6Address.class, "IPv6");
    }

    /** A preferred address (null: none) must be a concrete address of {@code family}: clients are sent there. */
    private static void checkPreferred(InetSocketAddress address, Class<?> family, String name) {
        if (address == null) {
            return;
        }
        if (address.isUnresolved() || !family.isInstance(address.getAddress())) {
            throw new IllegalArgumentException("preferred " + name + " address must be a resolved " + name
                    + " address, was " + address);
        }
        if (address.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("preferred " + name + " address must be concrete, not the wildcard "
                    + address + ": clients are told to send there");
        }
    }
}
