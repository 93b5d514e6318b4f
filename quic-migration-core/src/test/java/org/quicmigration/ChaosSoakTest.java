package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The chaos soak: several connections at once, each echoing digest-checked transfers of random sizes (data both
 * ways), each behind its own {@link ChaosRelay}, while a controller randomly migrates the clients (both strategies),
 * NAT-rebinds them (new port, new address, old binding dropped), and changes what the network does to every datagram
 * (0-5 % loss, duplicates, delay with jitter that reorders), and a CPU hog competes for the cores. A transfer that
 * receives nothing for {@value #STALL_MILLIS} ms fails the run with a stall report (both sides' send state, the
 * relay, a thread dump). The default client migration policy stays on, so the connections also move by themselves.
 *
 * <p>Bounded: {@code -Dquicmigration.chaosSeconds} (default 600), {@code -Dquicmigration.chaosConnections} (3),
 * {@code -Dquicmigration.chaosSeed} (printed, to repeat a run's choices). Runs only with {@code mvn verify -Pchaos}.
 */
@Tag("chaos")
class ChaosSoakTest {

    private static final long STALL_MILLIS = 5_000;
    private static final Duration DURATION = Duration.ofSeconds(Long.getLong("quicmigration.chaosSeconds", 600));
    private static final int CONNECTIONS = Integer.getInteger("quicmigration.chaosConnections", 3);
    private static final long SEED = Long.getLong("quicmigration.chaosSeed", System.nanoTime());
    private static final int MAX_TRANSFER = 4 << 20;

    /** The client's local addresses to move between and the NAT's outside addresses (all loopback). */
    private static final String[] CLIENT_ADDRESSES = {"127.0.0.1", "127.0.0.11", "127.0.0.12", "127.0.0.13"};
    private static final String[] OUTSIDE_ADDRESSES = {"127.0.0.1", "127.0.0.21", "127.0.0.22", "127.0.0.23"};

    private enum Action { MIGRATE_SWITCH_FIRST, MIGRATE_VALIDATE_FIRST, REBIND_PORT, REBIND_ADDRESS, IMPAIR }

    /** One connection under test: its relay, its transfers and what happened to it. */
    private static final class Lane {
        final int index;
        final ChaosRelay relay;
        MigratingConnection client;
        MigratingConnection server;
        final AtomicLong lastProgressNanos = new AtomicLong(System.nanoTime());
        final AtomicLong worstPauseNanos = new AtomicLong();
        final AtomicBoolean transferring = new AtomicBoolean();
        final AtomicBoolean migrating = new AtomicBoolean();
        final AtomicLong transfers = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong corrupt = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Map<MigrationCause, AtomicLong> migrationsByCause = new ConcurrentHashMap<>();

        Lane(int index, ChaosRelay relay) {
            this.index = index;
            this.relay = relay;
        }

        void progressed() {
            long now = System.nanoTime();
            long pause = now - lastProgressNanos.getAndSet(now);
            worstPauseNanos.accumulateAndGet(pause, Math::max);
        }
    }

    private final Map<Action, AtomicLong> actions = new EnumMap<>(Action.class);
    private final Map<String, AtomicLong> migrationOutcomes = new ConcurrentHashMap<>();

    @Test
    void connectionsKeepEveryByteThroughMigrationsRebindingsLossReorderingAndCpuContention() throws Exception {
        for (Action action : Action.values()) {
            actions.put(action, new AtomicLong());
        }
        System.out.printf("chaos soak: %d connections for %s, seed %d%n", CONNECTIONS, DURATION, SEED);
        Random random = new Random(SEED);
        Echo.Accepted accepted = new Echo.Accepted();
        List<Lane> lanes = new ArrayList<>();
        ScheduledExecutorService controller = Executors.newSingleThreadScheduledExecutor();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        CompletableFuture<String> stalled = new CompletableFuture<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread hog = startCpuHog(running);
        List<Thread> workers = new ArrayList<>();
        try (MigrationServer server = Echo.serverBuilder().onConnection(accepted).start()) {
            for (int i = 0; i < CONNECTIONS; i++) {
                Lane lane = new Lane(i, new ChaosRelay((InetSocketAddress) server.localAddress(), SEED + i));
                lanes.add(lane);
                lane.client = Echo.client(server).server(lane.relay.address()).build().connect();
                lane.client.addMigrationListener(event -> {
                    if (event instanceof MigrationEvent.MigrationStarted started) {
                        lane.migrationsByCause.computeIfAbsent(started.cause(), c -> new AtomicLong()).incrementAndGet();
                    }
                });
                int expected = i + 1;
                Await.until(() -> accepted.connections().size() >= expected, 5_000, "the server accepts connection " + i);
                lane.server = accepted.connections().get(i);
                workers.add(startTransfers(lane, new Random(SEED * 31 + i), running));
            }
            controller.schedule(() -> act(lanes, random, controller, running), 500, TimeUnit.MILLISECONDS);
            watchdog.scheduleAtFixedRate(() -> {
                String report = stallReport(lanes);
                if (report != null) {
                    stalled.complete(report);
                }
            }, 100, 100, TimeUnit.MILLISECONDS);

            try {
                fail(stalled.get(DURATION.toNanos(), TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                // the run's time is up, and no transfer stalled
            }
            running.set(false);
            controller.shutdown();
            controller.awaitTermination(10, TimeUnit.SECONDS);
            for (Lane lane : lanes) {
                lane.relay.impair(ChaosRelay.Impairment.NONE);
            }
            long drain = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (Thread worker : workers) {
                while (worker.isAlive() && System.nanoTime() < drain && !stalled.isDone()) {
                    worker.join(100);
                }
            }
            if (stalled.isDone()) {
                fail(stalled.getNow(null));
            }
            report(lanes);
            for (Lane lane : lanes) {
                if (lane.failure.get() != null) {
                    throw new AssertionError("connection " + lane.index + " failed; client: "
                            + lane.client.diagnostics().describeSendSide() + "; server: " + lane.server.diagnostics().describeSendSide()
                            + "; relay: " + lane.relay.describe(), lane.failure.get());
                }
                assertThat(lane.corrupt.get()).as("corrupt transfers on connection %d", lane.index).isZero();
                assertThat(lane.transfers.get()).as("transfers on connection %d", lane.index).isPositive();
            }
            assertThat(actions.get(Action.REBIND_PORT).get() + actions.get(Action.REBIND_ADDRESS).get())
                    .as("NAT rebindings").isPositive();
            assertThat(migrationOutcomes.getOrDefault("completed", new AtomicLong()).get()).as("completed migrations")
                    .isPositive();
        } finally {
            running.set(false);
            controller.shutdownNow();
            watchdog.shutdownNow();
            hog.interrupt();
            for (Lane lane : lanes) {
                if (lane.client != null) {
                    lane.client.close();
                }
                lane.relay.close();
            }
        }
    }

    /** A stall report if a transfer has received nothing for {@link #STALL_MILLIS}, else null. */
    private static String stallReport(List<Lane> lanes) {
        for (Lane lane : lanes) {
            long silent = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lane.lastProgressNanos.get());
            if (lane.transferring.get() && silent > STALL_MILLIS) {
                return String.format("connection %d stalled: nothing received for %d ms%nclient: %s%nclient path: %s%n"
                                + "server: %s%nrelay: %s%n%s", lane.index, silent, lane.client.diagnostics().describeSendSide(),
                        lane.client.path(), lane.server.diagnostics().describeSendSide(), lane.relay.describe(),
                        Diagnostics.threadDump());
            }
        }
        return null;
    }

    /** Echo transfers of random sizes, one after the other, until the run ends or one fails. */
    private static Thread startTransfers(Lane lane, Random random, AtomicBoolean running) {
        Thread worker = new Thread(() -> {
            try {
                while (running.get()) {
                    byte[] data = Echo.randomBytes(1 + random.nextInt(MAX_TRANSFER), random.nextLong());
                    lane.lastProgressNanos.set(System.nanoTime());
                    lane.transferring.set(true);
                    byte[] digest = Echo.exchange(lane.client, data, received -> lane.progressed());
                    lane.transferring.set(false);
                    if (!java.util.Arrays.equals(digest, Echo.sha256(data))) {
                        lane.corrupt.incrementAndGet();
                    }
                    lane.transfers.incrementAndGet();
                    lane.bytes.addAndGet(data.length);
                }
            } catch (Throwable e) {
                lane.failure.compareAndSet(null, e);
            } finally {
                lane.transferring.set(false);
            }
        }, "chaos-transfers-" + lane.index);
        worker.setDaemon(true);
        worker.start();
        return worker;
    }

    /** One random action on one random connection, then the next one 0.3 to 2 s later. */
    private void act(List<Lane> lanes, Random random, ScheduledExecutorService controller, AtomicBoolean running) {
        if (!running.get()) {
            return;
        }
        Lane lane = lanes.get(random.nextInt(lanes.size()));
        Action action = Action.values()[random.nextInt(Action.values().length)];
        try {
            switch (action) {
                case MIGRATE_SWITCH_FIRST -> migrate(lane, random, MigrationStrategy.SWITCH_THEN_VALIDATE);
                case MIGRATE_VALIDATE_FIRST -> migrate(lane, random, MigrationStrategy.VALIDATE_THEN_SWITCH);
                case REBIND_PORT -> lane.relay.rebind(lane.server.peerAddress().getAddress());
                case REBIND_ADDRESS -> lane.relay.rebind(pick(OUTSIDE_ADDRESSES, random));
                case IMPAIR -> lane.relay.impair(new ChaosRelay.Impairment(random.nextDouble() * 0.05,
                        random.nextDouble() * 0.02, random.nextInt(10_000), random.nextInt(10_000)));
            }
            actions.get(action).incrementAndGet();
        } catch (IOException e) {
            migrationOutcomes.computeIfAbsent("action failed: " + e, k -> new AtomicLong()).incrementAndGet();
        }
        controller.schedule(() -> act(lanes, random, controller, running), 300 + random.nextInt(1_700),
                TimeUnit.MILLISECONDS);
    }

    private void migrate(Lane lane, Random random, MigrationStrategy strategy) throws UnknownHostException {
        if (!lane.migrating.compareAndSet(false, true)) {
            return;
        }
        InetAddress target = pick(CLIENT_ADDRESSES, random);
        lane.client.migrate(new InetSocketAddress(target, 0), strategy).whenComplete((result, error) -> {
            String outcome = error == null ? "completed" : "failed: " + reasonOf(error);
            migrationOutcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
            lane.migrating.set(false);
        });
    }

    private static String reasonOf(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        return cause instanceof MigrationException migration ? migration.reason().toString()
                : cause.getClass().getSimpleName();
    }

    private static InetAddress pick(String[] addresses, Random random) throws UnknownHostException {
        return InetAddress.getByName(addresses[random.nextInt(addresses.length)]);
    }

    /** A thread that keeps one core busy until the run ends. */
    private static Thread startCpuHog(AtomicBoolean running) {
        Thread hog = new Thread(() -> {
            long sink = 0;
            while (running.get() && !Thread.currentThread().isInterrupted()) {
                for (int i = 0; i < 100_000; i++) {
                    sink += i * 31L ^ sink;
                }
            }
            if (sink == 42) {
                System.out.println("hog");
            }
        }, "chaos-cpu-hog");
        hog.setDaemon(true);
        hog.setPriority(Thread.NORM_PRIORITY);
        hog.start();
        return hog;
    }

    private void report(List<Lane> lanes) {
        long transfers = 0;
        long bytes = 0;
        long corrupt = 0;
        long worst = 0;
        long rebinds = 0;
        long dropped = 0;
        long duplicated = 0;
        long[] guards = new long[10];
        Map<MigrationCause, Long> causes = new EnumMap<>(MigrationCause.class);
        for (Lane lane : lanes) {
            transfers += lane.transfers.get();
            bytes += lane.bytes.get();
            corrupt += lane.corrupt.get();
            worst = Math.max(worst, lane.worstPauseNanos.get());
            rebinds += lane.relay.rebinds();
            dropped += lane.relay.dropped();
            duplicated += lane.relay.duplicated();
            long[] client = lane.client.diagnostics().stallGuardCounters();
            long[] server = lane.server.diagnostics().stallGuardCounters();
            for (int i = 0; i < client.length && i < 5; i++) {
                guards[i] += client[i];
                guards[5 + i] += server[i];
            }
            lane.migrationsByCause.forEach((cause, count) -> causes.merge(cause, count.get(), Long::sum));
        }
        System.out.printf("chaos soak, %d connections, %s, seed %d:%n", lanes.size(), DURATION, SEED);
        System.out.printf("  transfers %d, bytes echoed %d (%.1f MB each way), corrupt %d, worst pause %d ms%n",
                transfers, bytes, bytes / 1e6, corrupt, TimeUnit.NANOSECONDS.toMillis(worst));
        System.out.printf("  actions %s; NAT rebindings %d; datagrams dropped %d, duplicated %d%n", actions, rebinds,
                dropped, duplicated);
        System.out.printf("  migrations started by cause %s; outcomes of the controller's migrations %s%n", causes,
                migrationOutcomes);
        System.out.printf("  stall guard (client/server): send requests restored %d/%d, credit frames re-sent %d/%d, "
                        + "final frames restored %d/%d, loss timers set again %d/%d, resends cancelled %d/%d%n",
                guards[0], guards[5], guards[1], guards[6], guards[2], guards[7], guards[3], guards[8], guards[4],
                guards[9]);
    }
}
