package org.quicmigration;

import java.net.InetSocketAddress;
import java.util.Map;

import org.quicmigration.kwik.KwikConnection;
import org.quicmigration.kwik.WireTrace;

/**
 * Internal: the one seam through which tests and stall reports look inside a connection (the engine's send side,
 * the stall guard's counters, the server's path table) or provoke what the engine can do wrong. Not part of the
 * public API; {@link MigratingConnection#diagnostics()} hands one out.
 */
final class ConnectionDiagnostics {

    private final KwikConnection connection;

    ConnectionDiagnostics(KwikConnection connection) {
        this.connection = connection;
    }

    /** Records what this client connection sends. */
    void wireTrace(WireTrace trace) {
        connection.wireTrace(trace);
    }

    /**
     * Work-arounds the engine needed so far: lost send requests restored, credit frames re-sent, of the restored
     * requests those for streams Kwik had forgotten, cancelled loss-detection timers set again, and resends of data
     * declared lost at a move but acknowledged since, cancelled.
     */
    long[] stallGuardCounters() {
        return new long[]{connection.sendRequestsRestored(), connection.creditReadvertised(),
                connection.finalFramesRestored(), connection.lossTimersRearmed(), connection.resendsCancelled()};
    }

    /** Server side: starts remembering what the first datagram to each client address carried. */
    void recordFirstSends() {
        connection.recordFirstSends();
    }

    /** Server side: per client address, "PATH_CHALLENGE", "PATH_RESPONSE" or "other". */
    Map<InetSocketAddress, String> firstSends() {
        return connection.firstSends();
    }

    /** Whether the handshake is confirmed, which a migration needs (RFC 9000 9). */
    boolean handshakeConfirmed() {
        return connection.handshakeConfirmed();
    }

    /** Server side: how many client paths the connection tracks now (0 without migration support). */
    int trackedPaths() {
        return connection.serverTrackedPaths();
    }

    /** Cancels the engine's loss-detection timer, as a race in Kwik can. */
    void cancelLossTimerAsKwiksRaceDoes() {
        connection.cancelLossTimerAsKwiksRaceDoes();
    }

    /** The congestion window and the bytes in flight, in bytes. */
    long[] congestionWindowAndBytesInFlight() {
        return connection.congestionWindowAndBytesInFlight();
    }

    /** The engine's send-side state, for stall reports. */
    String describeSendSide() {
        return connection.describeSendSide();
    }
}
