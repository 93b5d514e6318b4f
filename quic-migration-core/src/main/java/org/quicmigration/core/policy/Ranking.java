package org.quicmigration.core.policy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * The usable networks in the policy's order of preference: by interface pattern if the configuration has any (a
 * network matching none is left out), the kernel's choice of source toward the server first among equals; without
 * patterns, the kernel's choice first, then the monitor's order. Immutable.
 *
 * @param networks most preferred first
 */
record Ranking(List<LocalNetwork> networks) {

    static final Ranking EMPTY = new Ranking(List.of());

    Ranking {
        networks = List.copyOf(networks);
    }

    /** Ranks {@code usable}, as the monitor reported them, with {@code kernelChoice} (null if unknown). */
    static Ranking of(List<LocalNetwork> usable, InetAddress kernelChoice, PolicyConfig config) {
        List<LocalNetwork> result = new ArrayList<>();
        for (LocalNetwork network : usable) {
            if (config.interfacePatterns().isEmpty() || config.rankOf(network.interfaceName()) >= 0) {
                result.add(network);
            }
        }
        Comparator<LocalNetwork> order = config.interfacePatterns().isEmpty()
                ? Comparator.comparing(network -> !network.address().equals(kernelChoice))
                : Comparator.comparingInt((LocalNetwork network) -> config.rankOf(network.interfaceName()))
                        .thenComparing(network -> !network.address().equals(kernelChoice));
        result.sort(order); // stable: otherwise the monitor's order
        return new Ranking(result);
    }

    /**
     * The networks that can carry a connection to {@code server}: those of its address family and of its scope. A
     * loopback server is reached from loopback addresses only (the kernel delivers a datagram to 127.0.0.1 whatever
     * its source, so a non-loopback source would "work" and move a connection off loopback); any other server from
     * non-loopback addresses only.
     */
    static List<LocalNetwork> usableToward(List<LocalNetwork> networks, InetAddress server) {
        boolean ipv4 = server instanceof Inet4Address;
        boolean loopback = server.isLoopbackAddress();
        return networks.stream()
                .filter(network -> (network.address() instanceof Inet4Address) == ipv4)
                .filter(network -> network.address().isLoopbackAddress() == loopback)
                .toList();
    }

    boolean isEmpty() {
        return networks.isEmpty();
    }

    /** The most preferred network, or null. */
    LocalNetwork top() {
        return networks.isEmpty() ? null : networks.get(0);
    }

    /** The most preferred network {@code allowed}, or null. */
    LocalNetwork best(Predicate<LocalNetwork> allowed) {
        for (LocalNetwork network : networks) {
            if (allowed.test(network)) {
                return network;
            }
        }
        return null;
    }

    boolean holds(InetAddress address) {
        return indexOf(address) >= 0;
    }

    /** True if some network other than {@code address} is ranked. */
    boolean hasOtherThan(InetAddress address) {
        return networks.stream().anyMatch(network -> !network.address().equals(address));
    }

    /** True if {@code network} ranks above {@code active}, which must itself be ranked. */
    boolean outranks(LocalNetwork network, InetAddress active) {
        int activeRank = indexOf(active);
        int rank = networks.indexOf(network);
        return activeRank > 0 && rank >= 0 && rank < activeRank;
    }

    private int indexOf(InetAddress address) {
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).address().equals(address)) {
                return i;
            }
        }
        return -1;
    }
}
