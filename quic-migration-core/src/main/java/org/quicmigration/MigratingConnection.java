package org.quicmigration;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

import org.quicmigration.kwik.ClientMigrationDriver;
import org.quicmigration.kwik.ConnectionEndedException;
import org.quicmigration.kwik.KwikConnection;
import org.quicmigration.kwik.KwikStream;

/**
 * An established QUIC connection, client or server side. Open streams with {@link #openStream()}, take the
 * peer's with {@link #acceptStream(Duration)}, and {@link #close()} when done.
 *
 * <p>Thread-safe. Once the connection has ended, every operation throws {@link ConnectionClosedException}.
 */
public final class MigratingConnection implements AutoCloseable {

    private final KwikConnection connection;
    private final ConnectionTracing tracing;
    private final StandbyReports standby = new StandbyReports();
    private final MigrationEvents events;
    private final StreamFailures failures;
    private final ClientMigrations migrations;
    private final PathHistory pathHistory;

    MigratingConnection(KwikConnection connection, ConnectionTracing tracing) {
        this.connection = connection;
        this.tracing = tracing;
        this.pathHistory = new PathHistory(new NetworkPath(connection.currentLocalAddress(),
                connection.currentPeerAddress()));
        this.events = new MigrationEvents(pathHistory::record, standby);
        this.failures = new StreamFailures(connection);
        this.migrations = new ClientMigrations(this, standby);
        connection.addMigrationObserver(events);
    }

    /**
     * Moves this connection to a new local address, for example when the device switched from Wi-Fi to cellular.
     * Port 0 picks any free port.
     *
     * <p>The connection switches at once: packets leave from the new address with a fresh destination connection
     * ID (RFC 9000 9.5), congestion control and RTT restart unless only the port changed (9.4), and the new path
     * is validated with PATH_CHALLENGE in the background. If it does not answer within three probe timeouts
     * (8.2.4), the connection returns to the old path and the future fails with
     * {@link MigrationException.Reason#VALIDATION_TIMED_OUT}, whose {@link MigrationException#fallbackPath()} names
     * that path. The old path's connection ID is retired once the new
     * path is validated.
     *
     * <p>This is {@link MigrationStrategy#SWITCH_THEN_VALIDATE}; when the old network still works,
     * {@link #migrate(InetSocketAddress, MigrationStrategy)} with {@link MigrationStrategy#VALIDATE_THEN_SWITCH}
     * moves without slowing the connection down.
     *
     * <p>Called right after {@link MigratingClient#connect}, it first waits (up to 3 s) for what a move needs and
     * may still be on its way: the handshake's confirmation and the server's first spare connection ID. The future
     * completes on a thread of the library's that serves no network: a stage chained to it may block without holding
     * up this or any other connection.
     *
     * @param newLocal the local address to use from now on
     * @return completes with the result once the new path is validated; fails with {@link MigrationException}
     * @throws IllegalStateException on a server-side connection (only clients migrate actively)
     */
    public CompletableFuture<MigrationResult> migrate(InetSocketAddress newLocal) {
        return migrate(newLocal, MigrationStrategy.SWITCH_THEN_VALIDATE);
    }

    /**
     * Moves this connection to a new local address with the given strategy. With
     * {@link MigrationStrategy#VALIDATE_THEN_SWITCH} the connection first sends a PATH_CHALLENGE from the new address,
     * with a destination connection ID of its own (RFC 9000 9.5), while data keeps flowing on the old path, and moves
     * only when the PATH_RESPONSE arrives; if none arrives within three probe timeouts the future fails with
     * {@link MigrationException.Reason#VALIDATION_TIMED_OUT} and the connection has stayed where it was
     * ({@link MigrationException#fallbackPath()} is empty). Otherwise as {@link #migrate(InetSocketAddress)}.
     *
     * @param newLocal the local address to use from now on
     * @param strategy whether to move first or validate first
     * @return completes with the result once the new path is validated (and, validating first, used); fails with
     *         {@link MigrationException}
     * @throws IllegalStateException on a server-side connection (only clients migrate actively)
     */
    public CompletableFuture<MigrationResult> migrate(InetSocketAddress newLocal, MigrationStrategy strategy) {
        Objects.requireNonNull(newLocal, "newLocal");
        Objects.requireNonNull(strategy, "strategy");
        return migrations.migrate(requireDriver(), newLocal, strategy);
    }

    /**
     * Moves this connection to the first address of {@code networkInterface} of the server's address family, on
     * any free port. See {@link #migrate(InetSocketAddress)}.
     *
     * @param networkInterface the interface to move to
     * @return completes with the result of the migration, or exceptionally with a {@link MigrationException}
     */
    public CompletableFuture<MigrationResult> migrate(NetworkInterface networkInterface) {
        Objects.requireNonNull(networkInterface, "networkInterface");
        boolean ipv4 = peerAddress().getAddress() instanceof java.net.Inet4Address;
        return ClientMigrations.addressOf(networkInterface, ipv4)
                .map(address -> migrate(new InetSocketAddress(address, 0)))
                .orElseGet(() -> CompletableFuture.failedFuture(new MigrationException(
                        MigrationException.Reason.ADDRESS_UNUSABLE, "interface " + networkInterface.getName()
                        + " has no " + (ipv4 ? "IPv4" : "IPv6") + " address", null)));
    }

    /** How often a standby path is probed by default: well inside the 30 s after which many NATs drop a UDP binding. */
    public static final Duration DEFAULT_STANDBY_PROBE_INTERVAL = Duration.ofSeconds(20);

    /**
     * Keeps a second path validated on {@code local} while data flows on the active path, probed every
     * {@link #DEFAULT_STANDBY_PROBE_INTERVAL}. See {@link #addStandbyPath(InetSocketAddress, Duration)}.
     *
     * @param local the local address of the standby (port 0 for any)
     * @return the standby, {@link StandbyPath.State#PROBING} at first
     * @throws MigrationException if it cannot start (as a migration could not, or with
     *                            {@link MigrationException.Reason#STANDBY_EXISTS})
     */
    public StandbyPath addStandbyPath(InetSocketAddress local) throws MigrationException {
        return addStandbyPath(local, DEFAULT_STANDBY_PROBE_INTERVAL);
    }

    /**
     * Keeps a second path validated on {@code local} while data flows on the active path: a warm standby for the
     * moment the active network goes away. Each probe is a PATH_CHALLENGE in a 1200-byte datagram (RFC 9000 8.2.1)
     * and its answer: about 2.4 kB per probe each way, 430 kB an hour at the default interval. Once the standby is
     * {@link StandbyPath.State#READY}, {@link #migrate} to its address, with either strategy, switches at once.
     * Called right after {@link MigratingClient#connect}, it first waits (up to 3 s) for what a new path needs and
     * may still be on its way: the handshake's confirmation and the server's first spare connection ID.
     *
     * @param local         the local address of the standby (port 0 for any)
     * @param probeInterval how often to probe it once it answered (at least 100 ms)
     * @return the standby, {@link StandbyPath.State#PROBING} at first
     * @throws MigrationException if it cannot start: the reasons of a migration (handshake not confirmed, the server
     *                            forbids migration, no spare connection ID, a migration running, an address that
     *                            cannot be bound) or {@link MigrationException.Reason#STANDBY_EXISTS}
     * @throws IllegalStateException on a server-side connection
     */
    public StandbyPath addStandbyPath(InetSocketAddress local, Duration probeInterval) throws MigrationException {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(probeInterval, "probeInterval");
        if (probeInterval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("probe interval below 100 ms: " + probeInterval);
        }
        return migrations.addStandby(requireDriver(), local, probeInterval);
    }

    void removeStandby(StandbyPath handle) {
        migrations.removeStandby(connection.migrationDriver(), handle);
    }

    /**
     * Adds a listener for this connection's path and migration events. On a client they follow {@link #migrate}
     * calls and the server's preferred address; on a server they report the client appearing at a new address
     * ({@link MigrationEvent.MigrationStarted}), the validation of that address and of the previous one, and the
     * outcome ({@link MigrationEvent.MigrationCompleted} or, after a failed validation,
     * {@link MigrationEvent.MigrationAbandoned}).
     *
     * @param listener the listener to add
     */
    public void addMigrationListener(MigrationListener listener) {
        events.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener added with {@link #addMigrationListener}; no effect if it is not there.
     *
     * @param listener the listener to remove
     */
    public void removeMigrationListener(MigrationListener listener) {
        events.remove(listener);
    }

    /**
     * Adds a listener for every packet this connection sends and receives, for packet traces and timelines. See
     * {@link PacketListener} for threading and cost; to see a client's handshake packets, set the listener on
     * {@link MigratingClient.Builder#packetListener} instead.
     *
     * @param listener the listener to add
     */
    public void addPacketListener(PacketListener listener) {
        tracing.addListener(listener);
    }

    /**
     * Removes a listener added with {@link #addPacketListener}; no effect if it is not there.
     *
     * @param listener the listener to remove
     */
    public void removePacketListener(PacketListener listener) {
        tracing.removeListener(listener);
    }

    /**
     * The qlog file this connection writes, if qlog is on ({@code qlogDirectory} on the client or server builder).
     * Events reach the file from a background thread shortly after they happen; the file is complete once the
     * connection has ended.
     *
     * @return the qlog file, or empty if qlog is off or its file could not be created
     */
    public java.util.Optional<java.nio.file.Path> qlogFile() {
        return java.util.Optional.ofNullable(tracing.qlogPath());
    }

    /**
     * The paths this connection has used, oldest first: the handshake's, then each path a completed migration
     * moved to (on a server: each client address it followed, and its preferred address). The last entry is the
     * path in use unless a migration is under way. At most the newest 64 are kept.
     *
     * @return the paths, oldest first; a snapshot
     */
    public List<NetworkPath> pathHistory() {
        return pathHistory.snapshot();
    }

    /** {@return the path the connection uses now} */
    public NetworkPath path() {
        return new NetworkPath(localAddress(), peerAddress());
    }

    /** {@return the destination connection ID (hex) our packets carry now; empty on a server connection} */
    public String destinationConnectionId() {
        ClientMigrationDriver driver = connection.migrationDriver();
        return driver == null ? "" : driver.activePeerId().toString();
    }

    /**
     * The connection IDs (hex) the peer gave us that are active now, lowest sequence number first: the one in use
     * and the spares. Empty on a server connection.
     *
     * @return the active connection IDs in hex; a snapshot
     */
    public List<String> peerConnectionIds() {
        ClientMigrationDriver driver = connection.migrationDriver();
        return driver == null ? List.of() : driver.activePeerIds();
    }

    /** {@return how many connection IDs the peer gave us that no path uses yet}: each allows one more migration. */
    public int spareConnectionIds() {
        ClientMigrationDriver driver = connection.migrationDriver();
        return driver == null ? 0 : driver.spareConnectionIds();
    }

    /**
     * Opens a new bidirectional stream. Nothing is sent until the first write.
     *
     * @return the new stream
     * @throws ConnectionClosedException if the connection has ended
     * @throws IOException if the peer's stream limit is reached and no stream becomes available
     */
    public BidirectionalStream openStream() throws IOException {
        try {
            return new BidirectionalStream(connection.openStream(), this);
        } catch (ConnectionEndedException e) {
            throw StreamFailures.closedException(e.termination());
        } catch (IOException e) {
            throw publicException(e);
        }
    }

    /**
     * Opens a unidirectional stream: this side writes, the peer only reads (HTTP/3 control streams, for
     * example). Close it to end the stream. Unidirectional streams the peer opens are not offered by this API.
     *
     * @return the stream to write; closing it ends the stream
     * @throws ConnectionClosedException if the connection has ended
     * @throws IOException if the peer's unidirectional stream limit is reached
     */
    public java.io.OutputStream openUnidirectionalStream() throws IOException {
        try {
            return publicOutput(connection.openUnidirectionalStream());
        } catch (ConnectionEndedException e) {
            throw StreamFailures.closedException(e.termination());
        } catch (IOException e) {
            throw publicException(e);
        }
    }

    /**
     * Waits for the next bidirectional stream the peer opens.
     *
     * @param timeout how long to wait
     * @return the stream
     * @throws SocketTimeoutException if no stream arrived in time
     * @throws ConnectionClosedException if the connection ended
     * @throws InterruptedException if the calling thread was interrupted
     */
    public BidirectionalStream acceptStream(Duration timeout) throws IOException, InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        try {
            KwikStream stream = connection.acceptStream(timeout);
            if (stream == null) {
                throw new SocketTimeoutException("no stream from " + peerAddress() + " within " + timeout.toMillis() + " ms");
            }
            return new BidirectionalStream(stream, this);
        } catch (ConnectionEndedException e) {
            throw StreamFailures.closedException(e.termination());
        }
    }

    /** {@return the local address this connection sends from now} */
    public InetSocketAddress localAddress() {
        return connection.currentLocalAddress();
    }

    /**
     * The peer's address in use now: on a client, the server's preferred address once the client moved there; on a
     * server, the address the client was last seen at and that the server sends to (it may not be validated yet:
     * see {@link MigrationEvent.PathValidated}).
     *
     * @return the peer address in use
     */
    public InetSocketAddress peerAddress() {
        return connection.currentPeerAddress();
    }

    /** {@return true until the connection ends, by either side} */
    public boolean isOpen() {
        return connection.termination() == null;
    }

    /**
     * Closes the connection cleanly (CONNECTION_CLOSE with NO_ERROR). Data not yet acknowledged may be lost:
     * close streams and wait for the peer's answer first when that matters. Idempotent; returns without
     * waiting for the peer.
     */
    @Override
    public void close() {
        if (isOpen()) {
            connection.close();
        }
    }

    /**
     * Closes the connection with an application error code and a reason phrase the peer will see.
     *
     * @param applicationErrorCode the application error code for CONNECTION_CLOSE
     * @param reason               the reason phrase
     */
    public void close(long applicationErrorCode, String reason) {
        if (isOpen()) {
            connection.close(applicationErrorCode, Objects.requireNonNull(reason, "reason"));
        }
    }

    /**
     * Returns the underlying engine object for features this API does not offer. Today the engine is Kwik and
     * the object Kwik's connection; code that uses it is tied to the Kwik version.
     *
     * @param <T>  the type asked for
     * @param type the class of that type
     * @return the engine object as {@code type}
     * @throws IllegalArgumentException if the engine object is not of the requested type
     */
    public <T> T unwrap(Class<T> type) {
        Object engine = connection.kwikConnection();
        if (!type.isInstance(engine)) {
            throw new IllegalArgumentException("the engine connection is a " + engine.getClass().getName()
                    + ", not a " + type.getName());
        }
        return type.cast(engine);
    }

    @Override
    public String toString() {
        return "MigratingConnection[" + localAddress() + " <-> " + peerAddress() + (isOpen() ? "" : ", closed") + "]";
    }

    private ClientMigrationDriver requireDriver() {
        ClientMigrationDriver driver = connection.migrationDriver();
        if (driver == null) {
            throw new IllegalStateException("only the client side of a connection can migrate");
        }
        return driver;
    }

    /** What tests and stall reports look at inside the connection; see {@link ConnectionDiagnostics}. */
    ConnectionDiagnostics diagnostics() {
        return new ConnectionDiagnostics(connection);
    }

    /** A stream failure as the application sees it; see {@link StreamFailures#publicException}. */
    IOException publicException(IOException failure) {
        return failures.publicException(failure);
    }

    /** The exception to throw instead of a stream failure caused by the connection ending, or null. */
    ConnectionClosedException closedExceptionBehind(IOException streamFailure) {
        return failures.closedExceptionBehind(streamFailure);
    }

    /** {@code output}, with failures translated as {@link #publicException} does. */
    java.io.OutputStream publicOutput(java.io.OutputStream output) {
        return failures.new PublicOutputStream(output);
    }
}
