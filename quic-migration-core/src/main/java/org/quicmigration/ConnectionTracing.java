package org.quicmigration;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.migration.MigrationState;
import org.quicmigration.core.trace.PeerParameters;
import org.quicmigration.core.trace.TracedFrame;
import org.quicmigration.core.trace.TracedPacket;
import org.quicmigration.kwik.KwikConnection;
import org.quicmigration.kwik.MigrationObserver;
import org.quicmigration.kwik.PacketObserver;
import org.quicmigration.qlog.QlogFile;

/**
 * A connection's packet listeners and qlog file. It observes the engine's packets only while one of them is set,
 * so an untraced connection pays one volatile read per packet. Packet events reach listeners on the events
 * thread; qlog events go to the qlog writer thread.
 */
final class ConnectionTracing implements PacketObserver, MigrationObserver {

    private static final System.Logger LOG = System.getLogger(ConnectionTracing.class.getName());

    private final Executor events;
    private final List<PacketListener> listeners = new CopyOnWriteArrayList<>();
    private volatile KwikConnection connection;
    private volatile QlogFile qlog;

    ConnectionTracing(Executor events, List<PacketListener> initialListeners) {
        this.events = events;
        listeners.addAll(initialListeners);
    }

    /**
     * Attaches to the engine's connection: opens the qlog file in {@code qlogDirectory} (if not null) and starts
     * observing packets if anyone listens. Call before the handshake to see its packets. A qlog file that cannot be
     * created is logged and skipped: the connection goes on without it.
     */
    void attach(KwikConnection connection, Path qlogDirectory, boolean server) {
        this.connection = connection;
        if (qlogDirectory != null) {
            try {
                qlog = QlogFile.create(qlogDirectory, server, connection.originalDestinationId());
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot create a qlog file in " + qlogDirectory
                        + "; the connection goes on without qlog", e);
            }
        }
        connection.onEnded(this::connectionEnded);
        refresh();
    }

    /** After the handshake: records transport parameters and follows path events into qlog. */
    void connected(boolean server, boolean acceptClientMigration) {
        QlogFile file = qlog;
        KwikConnection kwik = connection;
        if (file == null || kwik == null) {
            return;
        }
        if (server) {
            file.localParameters(!acceptClientMigration, kwik.localPreferredAddress());
        } else {
            PeerParameters peer = kwik.peerParameters();
            if (peer != null) {
                file.peerParameters(peer);
            }
        }
        kwik.addMigrationObserver(this);
    }

    /** Where this connection's qlog goes, or null without qlog. */
    Path qlogPath() {
        QlogFile file = qlog;
        return file == null ? null : file.path();
    }

    void addListener(PacketListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        refresh();
    }

    void removeListener(PacketListener listener) {
        listeners.remove(listener);
        refresh();
    }

    private void refresh() {
        KwikConnection kwik = connection;
        if (kwik != null) {
            kwik.packetObserver(qlog != null || !listeners.isEmpty() ? this : null);
        }
    }

    private void connectionEnded() {
        QlogFile file = qlog;
        if (file != null) {
            file.close();
        }
    }

    // ---- engine threads: hand off and return ----

    @Override
    public void packet(TracedPacket packet) {
        QlogFile file = qlog;
        if (file != null) {
            file.packet(packet);
        }
        if (!listeners.isEmpty()) {
            PacketEvent event = toEvent(packet);
            events.execute(() -> deliver(event));
        }
    }

    private void deliver(PacketEvent event) {
        for (PacketListener listener : listeners) {
            try {
                listener.onPacket(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "packet listener " + listener + " failed", e);
            }
        }
    }

    private static PacketEvent toEvent(TracedPacket packet) {
        List<PacketEvent.Frame> frames = new ArrayList<>(packet.frames().size());
        for (TracedFrame frame : packet.frames()) {
            frames.add(new PacketEvent.Frame(frame.qlogType(), fieldsOf(frame)));
        }
        return new PacketEvent(packet.time(), packet.sent() ? PacketEvent.Direction.SENT : PacketEvent.Direction.RECEIVED,
                new NetworkPath(packet.tuple().local(), packet.tuple().remote()), packet.destination().toString(),
                packet.packetNumber(), packet.type().qlogName(), packet.size(), frames);
    }

    private static java.util.Map<String, Object> fieldsOf(TracedFrame frame) {
        java.util.HexFormat hex = java.util.HexFormat.of();
        if (frame instanceof TracedFrame.PathChallenge challenge) {
            return java.util.Map.of("data", hex.formatHex(challenge.data()));
        } else if (frame instanceof TracedFrame.PathResponse response) {
            return java.util.Map.of("data", hex.formatHex(response.data()));
        } else if (frame instanceof TracedFrame.NewConnectionId newId) {
            java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>();
            fields.put("sequence_number", newId.sequenceNumber());
            fields.put("retire_prior_to", newId.retirePriorTo());
            fields.put("connection_id", newId.connectionId().toString());
            fields.put("stateless_reset_token", hex.formatHex(newId.resetToken()));
            return fields;
        } else if (frame instanceof TracedFrame.RetireConnectionId retire) {
            return java.util.Map.of("sequence_number", retire.sequenceNumber());
        } else if (frame instanceof TracedFrame.Padding padding) {
            return java.util.Map.of("length", (long) padding.length());
        } else if (frame instanceof TracedFrame.Other other) {
            return other.fields();
        }
        return java.util.Map.of();
    }

    @Override
    public void stateChanged(MigrationState from, MigrationState to, Tuple tuple,
                             org.quicmigration.core.migration.MigrationCause cause) {
        QlogFile file = qlog;
        if (file != null) {
            file.migrationState(from, to, tuple);
        }
    }

    @Override
    public void validationStarted(Tuple tuple, byte[] challengeData) {
        // qlog shows the challenge in the packet that carries it
    }

    @Override
    public void validationSucceeded(Tuple tuple, long roundTripNanos) {
        // qlog shows it as probing_successful or migration_complete
    }

    @Override
    public void validationFailed(Tuple tuple) {
        // qlog shows it as probing_abandoned
    }

    @Override
    public void peerIdChanged(ConnectionId from, ConnectionId to, Tuple tuple) {
        QlogFile file = qlog;
        if (file != null) {
            file.peerConnectionIdUpdated(from, to);
        }
    }
}
