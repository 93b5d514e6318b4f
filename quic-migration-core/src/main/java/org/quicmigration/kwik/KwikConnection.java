package org.quicmigration.kwik;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

import tech.kwik.core.ConnectionListener;
import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.QuicStream;
import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Internal: one Kwik connection, client or server side, seen through the few operations the public API needs.
 * Thread-safe.
 */
public final class KwikConnection {

    private final QuicConnectionImpl connection;
    private final InetSocketAddress localAddress;
    private final InetSocketAddress peerAddress;
    private final StallGuard stallGuard;
    private final DeclaredLosses declaredLosses = new DeclaredLosses();
    private final ConnectionEnd end = new ConnectionEnd();
    private final ConnectionStreams streams;
    private volatile ClientMigrationDriver migrationDriver;
    private volatile ServerMigrationDriver serverDriver;
    private volatile WireTrace wireTrace;
    private volatile PacketObserver packetObserver;
    private volatile ClientPathSocket clientSocket;
    private volatile ServerPathSocket serverSocket;
    private volatile Object rttEstimator;
    private final java.util.List<tech.kwik.core.frame.NewConnectionIdFrame> earlyConnectionIds = new java.util.ArrayList<>();

    KwikConnection(QuicConnectionImpl connection, InetSocketAddress localAddress, InetSocketAddress peerAddress,
                   StallGuard stallGuard) {
        this.connection = connection;
        this.localAddress = localAddress;
        this.peerAddress = peerAddress;
        this.stallGuard = stallGuard;
        this.streams = new ConnectionStreams(connection, declaredLosses, end);
        connection.setConnectionListener(new ConnectionListener() {
            @Override
            public void disconnected(ConnectionTerminatedEvent event) {
                terminated(ConnectionEnd.disconnected(event, migrationDriver));
            }
        });
    }

    /** Called on Kwik's receiver thread for every stream the peer opens; never blocks. */
    void peerOpenedStream(QuicStream stream) {
        streams.peerOpened(stream);
    }

    void terminated(Termination how) {
        end.record(how);
        stallGuard.stop();
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            driver.stop();
        }
        ServerMigrationDriver server = serverDriver;
        if (server != null) {
            server.stop();
        }
        streams.ended();
        end.complete();
    }

    /** Runs {@code action} once the connection has ended (at once if it has), on the thread that ended it. */
    public void onEnded(Runnable action) {
        end.future().whenComplete((how, error) -> action.run());
    }

    /**
     * The peer's CONNECTION_CLOSE was seen (on Kwik's receiver thread, before Kwik processes it). The connection has
     * ended then (RFC 9000 10.2.2: the endpoint enters the draining state), though Kwik reports it only when its
     * draining period is over, three PTOs later (W29, docs/kwik-workarounds.md#w29): a stream read that fails at once would
     * wait for that report for at most a second, which a loaded machine (larger RTT samples, so a longer PTO) can
     * exceed, and the reader would get Kwik's raw StreamClosedException instead of a ConnectionClosedException with
     * the peer's code.
     */
    void peerClosed(tech.kwik.core.frame.ConnectionCloseFrame close) {
        terminated(ConnectionEnd.peerClosed(close));
    }

    /** Completes with the termination once the connection has ended. */
    java.util.concurrent.CompletableFuture<Termination> ended() {
        return end.future();
    }

    private volatile org.quicmigration.core.trace.PreferredAddress localPreferredAddress;

    /** Server side: the preferred_address this connection was offered in its handshake, or null. */
    public org.quicmigration.core.trace.PreferredAddress localPreferredAddress() {
        return localPreferredAddress;
    }

    void localPreferredAddress(org.quicmigration.core.trace.PreferredAddress preferred) {
        this.localPreferredAddress = preferred;
    }

    /** Opens a unidirectional stream and returns its output. */
    public java.io.OutputStream openUnidirectionalStream() throws IOException {
        return streams.open(false).getOutputStream();
    }

    public KwikStream openStream() throws IOException {
        return new KwikStream(streams.open(true));
    }

    /**
     * Waits for the next stream the peer opened.
     *
     * @return the stream, or null when the timeout elapsed first
     * @throws ConnectionEndedException if the connection ended (queued streams are handed out first)
     */
    public KwikStream acceptStream(Duration timeout) throws IOException, InterruptedException {
        return streams.accept(timeout);
    }

    /** Closes with NO_ERROR; returns at once, Kwik finishes the closing handshake in the background. */
    public void close() {
        terminated(Termination.localClose());
        connection.close();
    }

    /** Closes with an application error code and reason phrase. */
    public void close(long applicationErrorCode, String reason) {
        terminated(new Termination(Termination.Kind.CLOSED, false, applicationErrorCode, true, reason));
        connection.close(applicationErrorCode, reason);
    }

    /** How many of the restored send requests were for streams Kwik had already forgotten. */
    public long finalFramesRestored() {
        return stallGuard.finalFramesRestored();
    }

    /** How many times the stall guard had to restore a send request Kwik lost (see {@link StallGuard}). */
    public long sendRequestsRestored() {
        return stallGuard.sendRequestsRestored();
    }

    /** How many times the stall guard found Kwik's loss-detection timer cancelled with packets in flight. */
    public long lossTimersRearmed() {
        return stallGuard.lossTimersRearmed();
    }

    /** How many flow-control credit frames the stall guard re-sent for a blocked peer. */
    public long creditReadvertised() {
        return stallGuard.creditReadvertised();
    }

    /** Test hook: cancels Kwik's loss-detection timer as a race in Kwik can (W5, see {@link StallGuard}). */
    public void cancelLossTimerAsKwiksRaceDoes() {
        KwikRecovery.cancelLossTimerAsKwiksRaceDoes(connection);
    }

    /** The congestion window and the bytes in flight, in bytes; for tests. */
    public long[] congestionWindowAndBytesInFlight() {
        return KwikCongestion.congestionWindowAndBytesInFlight(connection);
    }

    /** What Kwik's send side holds right now, for stall reports in tests and logs; any thread. */
    public String describeSendSide() {
        ClientMigrationDriver driver = migrationDriver;
        ServerMigrationDriver server = serverDriver;
        return KwikRecovery.describeSendSide(connection) + (driver == null ? "" : "; " + driver.describeSocket())
                + (server == null ? "" : "; " + server.describe())
                + "; guard restored " + sendRequestsRestored()
                + " requests, re-sent " + creditReadvertised() + " credit frames, re-armed " + lossTimersRearmed()
                + " loss timers";
    }

    /** Sets (or clears, with null) the sink for what this client connection sends. */
    public void wireTrace(WireTrace trace) {
        this.wireTrace = trace;
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            driver.trace(trace);
        }
    }

    WireTrace wireTrace() {
        return wireTrace;
    }

    /**
     * Sets (or clears, with null) the observer of every packet this connection sends and receives. A client sees
     * its handshake packets if this is set before the handshake; a server connection exists only after its
     * handshake, so it sees 1-RTT packets. With no observer, tracing costs one volatile read per packet.
     */
    public void packetObserver(PacketObserver observer) {
        this.packetObserver = observer;
        ClientPathSocket client = clientSocket;
        if (client != null) {
            client.recordPaths(observer != null);
        }
        ServerMigrationDriver server = serverDriver;
        ServerPathSocket socket = serverSocket;
        if (server != null) {
            server.packetObserver(observer);
        } else if (socket != null) {
            socket.traceSendsWithoutDriver(this, observer != null && end.termination() == null);
        }
    }

    /** Server side, for a connection without a migration driver: the socket that traces its sends. */
    void serverSocket(ServerPathSocket socket) {
        this.serverSocket = socket;
        onEnded(() -> socket.traceSendsWithoutDriver(this, false));
    }

    PacketObserver packetObserver() {
        return packetObserver;
    }

    /** Client side: the socket layer, which knows the path each datagram took. */
    void clientSocket(ClientPathSocket socket) {
        this.clientSocket = socket;
        socket.recordPaths(packetObserver != null);
    }

    ClientPathSocket clientSocket() {
        return clientSocket;
    }

    /** Client side: the server's transport parameters that matter to migration; null on the server side. */
    public org.quicmigration.core.trace.PeerParameters peerParameters() {
        return KwikHandshake.peerParameters(connection);
    }

    /**
     * The destination connection ID of the client's first Initial packet (RFC 9000 7.3), which names the
     * connection in logs on both sides.
     */
    public org.quicmigration.core.ConnectionId originalDestinationId() {
        return KwikHandshake.originalDestinationId(connection);
    }

    /** Client migration support, or null on the server side and before the handshake completed. */
    public ClientMigrationDriver migrationDriver() {
        return migrationDriver;
    }

    /**
     * Installs client migration support. NEW_CONNECTION_ID frames observed before (Kwik may process them after the
     * driver copied its state) are handed over, so no peer connection ID is missed.
     */
    synchronized void migrationDriver(ClientMigrationDriver driver) {
        this.migrationDriver = driver;
        driver.declaredLosses(declaredLosses);
        for (tech.kwik.core.frame.NewConnectionIdFrame frame : earlyConnectionIds) {
            driver.onNewConnectionId(frame);
        }
        earlyConnectionIds.clear();
    }

    /** Client side: a NEW_CONNECTION_ID frame was seen on Kwik's receiver thread. */
    synchronized void newConnectionIdObserved(tech.kwik.core.frame.NewConnectionIdFrame frame) {
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            driver.onNewConnectionId(frame);
        } else if (end.termination() == null) {
            earlyConnectionIds.add(frame);
        }
    }

    /**
     * The peer address in use now: a client that followed the server's preferred_address sends there; a server
     * sends to where its client moved.
     */
    public InetSocketAddress currentPeerAddress() {
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            return driver.remoteAddress();
        }
        ServerMigrationDriver server = serverDriver;
        return server != null ? server.currentRemote() : peerAddress;
    }

    /** Server migration support, or null on the client side and on a server that does not accept migration. */
    ServerMigrationDriver serverDriver() {
        return serverDriver;
    }

    /** RFC 9001 4.1.2: whether this connection's handshake is confirmed (a client may migrate only then). */
    public boolean handshakeConfirmed() {
        return KwikHandshake.handshakeConfirmed(connection);
    }

    /** Server side: how many client paths the connection tracks now; 0 without migration support. */
    public int serverTrackedPaths() {
        ServerMigrationDriver server = serverDriver;
        return server == null ? 0 : server.trackedPaths();
    }

    /** Server side, test hook: starts remembering the first datagram sent to each client address. */
    public void recordFirstSends() {
        ServerMigrationDriver server = serverDriver;
        if (server != null) {
            server.recordFirstSends();
        }
    }

    /** Server side, test hook: what the first datagram sent to each client address carried. */
    public java.util.Map<InetSocketAddress, String> firstSends() {
        ServerMigrationDriver server = serverDriver;
        return server == null ? java.util.Map.of() : server.firstSends();
    }

    void serverDriver(ServerMigrationDriver driver) {
        this.serverDriver = driver;
        driver.declaredLosses(declaredLosses);
        driver.packetObserver(packetObserver);
    }

    /** Adds an observer of path events on either side; a no-op on a connection without migration support. */
    public void addMigrationObserver(MigrationObserver observer) {
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            driver.addObserver(observer);
        }
        ServerMigrationDriver server = serverDriver;
        if (server != null) {
            server.addObserver(observer);
        }
    }

    /**
     * The local address in use now: it changes when a client migrates, and on a server when the client moved to
     * its preferred address.
     */
    public InetSocketAddress currentLocalAddress() {
        ClientMigrationDriver driver = migrationDriver;
        if (driver != null) {
            return driver.localAddress();
        }
        ServerMigrationDriver server = serverDriver();
        return server != null ? server.currentLocal() : localAddress;
    }

    /** Kwik's RTT estimator of this connection (resolved once), for the per-packet RTT floor. */
    Object rttEstimator() {
        Object estimator = rttEstimator;
        if (estimator == null) {
            estimator = KwikCongestion.rttEstimator(connection);
            rttEstimator = estimator;
        }
        return estimator;
    }

    StallGuard stallGuard() {
        return stallGuard;
    }

    /** Resends of stream frames declared lost at a move whose packets were acknowledged after all, cancelled. */
    public long resendsCancelled() {
        return declaredLosses.cancelled();
    }

    /** The packets declared lost at the last move, whose late acknowledgements cancel resends. */
    DeclaredLosses declaredLosses() {
        return declaredLosses;
    }

    QuicConnectionImpl kwik() {
        return connection;
    }

    /**
     * The termination behind a stream failure (W29, docs/kwik-workarounds.md#w29). Kwik aborts streams before it reports the termination on its
     * callback thread, so a stream error that says the connection closed waits (at most one second) for that
     * report. Returns null if the failure was not caused by the connection ending.
     */
    public Termination terminationBehind(IOException streamFailure) {
        return end.behind(streamFailure);
    }

    /** How the connection ended, or null while it is open. */
    public Termination termination() {
        return end.termination();
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public InetSocketAddress peerAddress() {
        return peerAddress;
    }

    /** The Kwik connection object itself, for users who need Kwik features the API does not offer. */
    public Object kwikConnection() {
        return connection;
    }
}
