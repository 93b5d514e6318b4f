package org.quicmigration.kwik;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.frame.ConnectionCloseFrame;

/**
 * Internal: how and when a {@link KwikConnection} ended. The first termination recorded is the one kept, and a future
 * completes with it once the connection has ended; Kwik's reports of an end are translated here. Thread-safe: Kwik's
 * threads report ends, application threads ask.
 */
final class ConnectionEnd {

    private final CompletableFuture<Termination> ended = new CompletableFuture<>();
    private volatile Termination termination;

    /** How the connection ended, or null while it is open. */
    Termination termination() {
        return termination;
    }

    /** Keeps {@code how} unless an earlier termination was recorded. */
    void record(Termination how) {
        if (termination == null) {
            termination = how;
        }
    }

    /** The connection has ended: completes {@link #future} with the termination recorded. */
    void complete() {
        ended.complete(termination);
    }

    /** Completes with the termination once the connection has ended. */
    CompletableFuture<Termination> future() {
        return ended;
    }

    /**
     * The termination behind a stream failure (W29, docs/kwik-workarounds.md#w29). Kwik aborts streams before it
     * reports the termination on its callback thread, so a stream error that says the connection closed waits (at
     * most one second) for that report. Returns null if the failure was not caused by the connection ending.
     */
    Termination behind(IOException streamFailure) {
        Termination known = termination;
        if (known != null) {
            return known;
        }
        String message = String.valueOf(streamFailure.getMessage()).toLowerCase(java.util.Locale.ROOT);
        boolean connectionGone = streamFailure instanceof tech.kwik.core.StreamClosedException
                || message.contains("connection closed") || message.contains("connection is closed");
        if (!connectionGone) {
            return null;
        }
        try {
            return ended.get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    /** Kwik's report of the end, told apart from an end for want of a network when {@code driver} says so. */
    static Termination disconnected(ConnectionTerminatedEvent event, ClientMigrationDriver driver) {
        Termination how = translate(event);
        // Kwik reports its idle timeout as "connection lost" when it closes silently; either way, without a
        // network the cause is the missing network.
        boolean gaveUp = how.kind() == Termination.Kind.IDLE_TIMEOUT || how.kind() == Termination.Kind.LOST;
        if (gaveUp && driver != null && driver.noUsableNetwork()) {
            how = new Termination(Termination.Kind.NO_USABLE_NETWORK, false, -1, false,
                    "the active path failed (" + driver.localAddress() + ") and no other network came up");
        }
        return how;
    }

    /** The end the peer's CONNECTION_CLOSE announces. */
    static Termination peerClosed(ConnectionCloseFrame close) {
        boolean application = close.hasApplicationProtocolError();
        long code = close.getErrorCode();
        Termination.Kind kind = Termination.Kind.CLOSED;
        return new Termination(kind, true, code, application,
                close.hasReasonPhrase() ? Objects.requireNonNullElse(close.getReasonPhrase(), "") : "");
    }

    static Termination translate(ConnectionTerminatedEvent event) {
        Termination.Kind kind = switch (event.closeReason()) {
            case IdleTimeout -> Termination.Kind.IDLE_TIMEOUT;
            case StatelessReset -> Termination.Kind.STATELESS_RESET;
            case ConnectionLost -> Termination.Kind.LOST;
            case ImmediateClose -> Termination.Kind.CLOSED;
        };
        long code = -1;
        boolean application = false;
        if (event.hasApplicationError()) {
            code = event.applicationErrorCode();
            application = true;
        } else if (event.hasTransportError()) {
            code = event.transportErrorCode();
        } else if (kind == Termination.Kind.CLOSED) {
            code = 0;
        }
        return new Termination(kind, event.closedByPeer(), code, application,
                Objects.requireNonNullElse(event.errorDescription(), ""));
    }
}
