package org.quicmigration;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationState;
import org.quicmigration.kwik.MigrationObserver;

/**
 * Internal: a connection's {@link MigrationListener}s and the translation of its driver's reports into public
 * {@link MigrationEvent}s, delivered in order on one thread shared by all connections, never a network thread.
 */
final class MigrationEvents implements MigrationObserver {

    private static final System.Logger LOG = System.getLogger(MigrationEvents.class.getName());
    /** One thread for all listener callbacks: events stay in order and never run on network threads. */
    static final ExecutorService THREAD = Executors.newSingleThreadExecutor(
            DaemonThreads.named("quic-migration-events"));

    private final List<MigrationListener> listeners = new CopyOnWriteArrayList<>();
    private final Consumer<NetworkPath> completed;
    private final StandbyReports standby;

    /**
     * @param completed told of each path a migration completed on, before the event is published
     * @param standby   told of each standby report
     */
    MigrationEvents(Consumer<NetworkPath> completed, StandbyReports standby) {
        this.completed = completed;
        this.standby = standby;
    }

    void add(MigrationListener listener) {
        listeners.add(listener);
    }

    void remove(MigrationListener listener) {
        listeners.remove(listener);
    }

    private static NetworkPath path(Tuple tuple) {
        return new NetworkPath(tuple.local(), tuple.remote());
    }

    private void publish(MigrationEvent event) {
        if (listeners.isEmpty()) {
            return;
        }
        THREAD.execute(() -> {
            for (MigrationListener listener : listeners) {
                try {
                    listener.onEvent(event);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "migration listener " + listener + " failed on " + event, e);
                }
            }
        });
    }

    @Override
    public void stateChanged(MigrationState from, MigrationState to, Tuple tuple,
                             org.quicmigration.core.migration.MigrationCause cause) {
        Instant now = Instant.now();
        switch (to) {
            case MIGRATION_STARTED -> publish(new MigrationEvent.MigrationStarted(now, path(tuple),
                    MigrationCause.of(cause)));
            case MIGRATION_COMPLETE -> {
                completed.accept(path(tuple));
                publish(new MigrationEvent.MigrationCompleted(now, path(tuple)));
            }
            case MIGRATION_ABANDONED, PROBING_ABANDONED -> publish(new MigrationEvent.MigrationAbandoned(now, path(tuple)));
            default -> { }
        }
    }

    @Override
    public void standbyChanged(Tuple tuple, org.quicmigration.core.migration.StandbyState state,
                               long roundTripNanos) {
        StandbyPath.State translated = StandbyPath.State.valueOf(state.name());
        Duration roundTrip = roundTripNanos < 0 ? null : Duration.ofNanos(roundTripNanos);
        standby.report(tuple.local(), translated, roundTrip);
        publish(new MigrationEvent.StandbyPathChanged(Instant.now(), path(tuple), translated,
                java.util.Optional.ofNullable(roundTrip)));
    }

    @Override
    public void validationStarted(Tuple tuple, byte[] challengeData) {
        publish(new MigrationEvent.PathValidationStarted(Instant.now(), path(tuple),
                java.util.HexFormat.of().formatHex(challengeData)));
    }

    @Override
    public void validationSucceeded(Tuple tuple, long roundTripNanos) {
        publish(new MigrationEvent.PathValidated(Instant.now(), path(tuple), Duration.ofNanos(roundTripNanos)));
    }

    @Override
    public void validationFailed(Tuple tuple) {
        publish(new MigrationEvent.PathValidationFailed(Instant.now(), path(tuple)));
    }

    @Override
    public void pathFailed(Tuple tuple, String reason) {
        publish(new MigrationEvent.PathFailed(Instant.now(), path(tuple), reason));
    }

    @Override
    public void noUsableNetwork(Tuple tuple) {
        publish(new MigrationEvent.NoUsableNetwork(Instant.now(), path(tuple)));
    }

    @Override
    public void pathResumed(Tuple tuple) {
        publish(new MigrationEvent.PathResumed(Instant.now(), path(tuple)));
    }

    @Override
    public void peerIdChanged(ConnectionId from, ConnectionId to, Tuple tuple) {
        publish(new MigrationEvent.PeerConnectionIdChanged(Instant.now(), path(tuple), from.toString(), to.toString()));
    }
}
