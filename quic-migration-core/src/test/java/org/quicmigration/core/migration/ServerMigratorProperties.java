package org.quicmigration.core.migration;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ServerMigrator} under random traffic: packets from random client addresses to random IDs of ours, probing
 * or not, with challenges and right or wrong responses, reordered packet numbers and timers, the binding's part played
 * as the Kwik binding plays it (each ID switch confirmed, each challenge reported when it leaves). The connection-ID
 * rules of RFC 9000 9.5 and the retirement rules are checked after every step.
 */
class ServerMigratorProperties {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 4433);
    private static final List<Tuple> TUPLES = List.of(
            new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 5000)),
            new Tuple(SERVER, new InetSocketAddress("127.0.0.2", 6000)),
            new Tuple(SERVER, new InetSocketAddress("127.0.0.3", 5000)),
            new Tuple(SERVER, new InetSocketAddress("127.0.0.4", 7000)));
    private static final List<ConnectionId> OURS = List.of(ConnectionId.fromHex("a0a0"), ConnectionId.fromHex("a1a1"),
            ConnectionId.fromHex("a2a2"));

    /**
     * RFC 9000 9.5: "an endpoint MUST NOT reuse a connection ID when sending to more than one destination address."
     * A client ID the connection moved away from is used on its old path only, never on the active one; the ID in use
     * is never retired; no ID is retired twice, and none before the switch that left it.
     */
    @Property(tries = 300)
    void clientIdsStayOnTheirPathsAndAreRetiredOnce(@ForAll long seed) {
        run(seed);
    }

    /** The same over fixed seeds, among them the counterexamples this property found (see {@link ServerClientIds}). */
    @Test
    void clientIdsStayOnTheirPathsOverFixedSeeds() {
        for (long seed = 0; seed < 300; seed++) {
            run(seed);
        }
    }

    private static void run(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ServerMigrator migrator = new ServerMigrator(TUPLES.get(0), 3, 4, Duration.ofMillis(25), null,
                ServerPathManager.DEFAULT_MEMORY, new SplittableRandom(seed + 1));
        List<ConnectionId> clientIds = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            clientIds.add(ConnectionId.fromHex(String.format("c0%02x", i)));
        }
        int inUse = 0;
        Set<Integer> retired = new HashSet<>();
        List<byte[]> challenges = new ArrayList<>();
        long now = 0;
        long packetNumber = 0;
        for (int step = 0; step < 60; step++) {
            now += random.nextLong(1, 40) * MS;
            List<ServerAction> actions;
            boolean timerStep = random.nextInt(6) == 0;
            if (timerStep) {
                now = Math.max(now, Math.min(migrator.nextTimerNanos(), now + 3_000 * MS));
                actions = new ArrayList<>(migrator.onTimer(now));
            } else {
                Tuple tuple = TUPLES.get(random.nextInt(TUPLES.size()));
                ConnectionId to = OURS.get(random.nextInt(OURS.size()));
                List<byte[]> sent = random.nextInt(4) == 0 ? List.of(data(random)) : List.of();
                List<byte[]> answers = !challenges.isEmpty() && random.nextInt(3) == 0
                        ? List.of(random.nextInt(5) == 0 ? data(random) : challenges.get(random.nextInt(challenges.size())))
                        : List.of();
                long number = random.nextInt(8) == 0 ? Math.max(0, packetNumber - 3) : ++packetNumber;
                ConnectionId next = inUse + 1 < clientIds.size() ? clientIds.get(inUse + 1) : null;
                actions = new ArrayList<>(migrator.onDatagram(new ServerDatagram(now, tuple, random.nextInt(40, 1300),
                        random.nextBoolean(), number == packetNumber, to, sent, true, answers, clientIds.get(inUse), next,
                        Duration.ofMillis(60))));
            }
            for (int i = 0; i < actions.size(); i++) {
                ServerAction action = actions.get(i);
                if (action instanceof ServerAction.UseNextClientId use) {
                    if (inUse + 1 < clientIds.size()) {
                        inUse++;
                        actions.addAll(migrator.onClientIdSwitched(use.tuple(), inUse - 1, clientIds.get(inUse - 1),
                                clientIds.get(inUse)));
                    } else {
                        migrator.onNoSpareClientId();
                    }
                } else if (action instanceof ServerAction.RetireClientId retire) {
                    assertThat(retire.sequence()).as("the ID in use is never retired").isNotEqualTo(inUse);
                    assertThat(retire.sequence()).as("an ID left by a confirmed switch").isLessThan(inUse);
                    assertThat(retired.add(retire.sequence())).as("retired once: %s", retire.sequence()).isTrue();
                } else if (action instanceof ServerAction.SendPathFrame frame) {
                    if (frame.frame() == ServerAction.PathFrame.CHALLENGE) {
                        challenges.add(frame.data());
                        migrator.onChallengeLeft(now, frame.data(), random.nextBoolean());
                    }
                    if (frame.sealWith() != null) {
                        assertThat(retired).as("never a retired ID")
                                .doesNotContain(clientIds.indexOf(frame.sealWith()));
                    }
                }
            }
            ServerRouting routing = migrator.routing();
            if (routing.leftId() != null) {
                assertThat(routing.leftPath()).as("the ID left routes its old path only").isNotEqualTo(routing.active());
                assertThat(retired).as("a retired ID routes nothing").doesNotContain(clientIds.indexOf(routing.leftId()));
            }
            if (timerStep) {
                assertThat(migrator.nextTimerNanos()).as("nothing is still due after the timer ran").isGreaterThan(now);
            }
        }
    }

    private static byte[] data(SplittableRandom random) {
        byte[] data = new byte[8];
        random.nextBytes(data);
        return data;
    }
}
