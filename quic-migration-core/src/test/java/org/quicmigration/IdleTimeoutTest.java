package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The idle timeout (RFC 9000 10.1) still ends an idle connection on both sides, now that the library runs every
 * connection's idle timer on one shared thread instead of the thread Kwik starts for each.
 */
class IdleTimeoutTest {

    @Test
    void anIdleConnectionEndsOnBothSidesWithoutAThreadOfItsOwnForTheTimer() throws Exception {
        long kwikTimerThreadsBefore = kwikIdleTimerThreads();
        try (MigrationServer server = Echo.serverBuilder().idleTimeout(Duration.ofSeconds(1)).start();
             MigratingConnection connection = Echo.client(server).idleTimeout(Duration.ofSeconds(1)).build().connect()) {
            byte[] data = Echo.randomBytes(64 * 1024, 7);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            MigratingConnection serverSide = Echo.lastServerConnection();
            assertThat(connection.isOpen()).as("just used").isTrue();

            Await.until(() -> kwikIdleTimerThreads() <= kwikTimerThreadsBefore, 5_000,
                    "the idle-timer threads Kwik started for both sides end");
            Await.until(() -> !connection.isOpen() && !serverSide.isOpen(), 10_000,
                    "both sides closed by the 1 s idle timeout");
            ConnectionClosedException closed = catchThrowableOfType(connection::openStream, ConnectionClosedException.class);
            assertThat(closed).as("a new stream on the timed-out connection").isNotNull();
            // Kwik reports a silence after our own last packet as a lost connection ("tail loss"), else as idle.
            assertThat(closed.reason()).isIn(ConnectionClosedException.Reason.IDLE_TIMEOUT,
                    ConnectionClosedException.Reason.LOST);
        }
    }

    private static long kwikIdleTimerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("idle-timer")).count();
    }
}
