package org.quicmigration.kwik;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Internal: the one daemon thread on which the binding runs its own work for every connection: the stall
 * guard's checks, the migration core's calls and timers. Never Kwik's threads, never the application's. All of
 * that work is short and non-blocking, so one thread serves many connections and keeps each connection's core
 * calls in order without locks.
 */
final class BindingThreads {

    static final ScheduledExecutorService SCHEDULER = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "quic-migration-binding");
        thread.setDaemon(true);
        return thread;
    });

    private BindingThreads() {
    }
}
