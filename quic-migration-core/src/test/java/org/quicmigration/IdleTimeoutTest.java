package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The idle timeout (RFC 9000 10.1) ends an idle connection on both sides: with the library running every
 * connection's idle timer on one shared thread instead of the thread Kwik starts for each, and on a path whose round
 * trip is far below the ACK delay, where two Kwik endpoints used to keep each other awake with PINGs.
 */
class IdleTimeoutTest {

    @Test
    void anIdleConnectionEndsOnBothSidesWithoutAThreadOfItsOwnForTheTimer() throws Exception {
        long kwikTimerThreadsBefore = kwikIdleTimerThreads();
        java.util.Deque<String> packets = new java.util.concurrent.ConcurrentLinkedDeque<>();
        Echo.Accepted accepted = new Echo.Accepted();
        try (MigrationServer server = Echo.serverBuilder().idleTimeout(Duration.ofSeconds(1)).onConnection(accepted)
                .start();
             MigratingConnection connection = Echo.client(server).idleTimeout(Duration.ofSeconds(1))
                     .packetListener(packet -> packets.add(packet.time() + " " + packet.direction() + " " + packet.frameTypes()))
                     .build().connect()) {
            // Many small exchanges: the smoothed RTT settles near loopback's (about 1 ms), far below the ACK delay,
            // where Kwik alone kept an idle connection awake for ever (see KwikAcks.stopPingPongWhenIdle).
            for (int i = 0; i < 40; i++) {
                byte[] data = Echo.randomBytes(1024, i);
                assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            }
            MigratingConnection serverSide = accepted.first();
            assertThat(connection.isOpen()).as("just used").isTrue();

            Await.until(() -> kwikIdleTimerThreads() <= kwikTimerThreadsBefore, 5_000,
                    "the idle-timer threads Kwik started for both sides end");
            try {
                Await.until(() -> !connection.isOpen() && !serverSide.isOpen(), 10_000,
                        "both sides closed by the 1 s idle timeout");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; client open " + connection.isOpen() + ", server open "
                        + serverSide.isOpen() + "; now " + java.time.Instant.now() + "; last packets of the client: "
                        + packets.stream().skip(Math.max(0, packets.size() - 12)).toList() + "; idle-timer threads:"
                        + idleTimerThreadStacks(), e);
            }
            ConnectionClosedException closed = catchThrowableOfType(connection::openStream, ConnectionClosedException.class);
            assertThat(closed).as("a new stream on the timed-out connection").isNotNull();
            // Kwik reports a silence after our own last packet as a lost connection ("tail loss"), else as idle.
            assertThat(closed.reason()).isIn(ConnectionClosedException.Reason.IDLE_TIMEOUT,
                    ConnectionClosedException.Reason.LOST);
        }
    }

    private static String idleTimerThreadStacks() {
        StringBuilder stacks = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().contains("idle-timer")) {
                stacks.append("\n").append(thread.getName()).append(' ').append(thread.getState());
                for (StackTraceElement element : stack) {
                    stacks.append("\n    at ").append(element);
                }
            }
        });
        return stacks.toString();
    }

    private static long kwikIdleTimerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("idle-timer")).count();
    }
}
