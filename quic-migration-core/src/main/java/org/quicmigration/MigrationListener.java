package org.quicmigration;

/**
 * Receives a connection's {@link MigrationEvent}s. Called on a library thread, one event at a time, in order;
 * an exception thrown here is logged and never reaches the network threads.
 */
@FunctionalInterface
public interface MigrationListener {

    /**
     * Called for each event.
     *
     * @param event what happened
     */
    void onEvent(MigrationEvent event);
}
