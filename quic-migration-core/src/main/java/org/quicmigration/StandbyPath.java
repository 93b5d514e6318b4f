package org.quicmigration;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A second path a client connection keeps validated while data flows on its active path, so that a move to it
 * needs no validation first: {@link MigratingConnection#migrate} to its local address (or the
 * {@link MigrationPolicy}'s move to its network) switches at once, and the server, which validated the path when it
 * saw it probed, sends there at full rate one half round trip later (RFC 9000 9.3: "An endpoint MAY skip validation
 * of a peer address if that address has been seen recently"). The standby is probed with a PATH_CHALLENGE of its own
 * destination connection ID (RFC 9000 9.5) when added and again at its probe interval, which also keeps the binding
 * of a NAT on the way alive.
 *
 * <p>It holds the connection's spare connection ID: while it exists, a migration to another address is refused with
 * {@link MigrationException.Reason#NO_SPARE_CONNECTION_ID}. Obtained from {@link MigratingConnection#addStandbyPath};
 * thread-safe.
 */
public final class StandbyPath {

    /** Where a standby path stands. */
    public enum State {
        /** Probed, not answered yet. */
        PROBING,
        /** Answered its last probe: a move to it switches at once. */
        READY,
        /** Did not answer its last probe in time, or its network went away; it is probed again at the interval. */
        FAILED,
        /** The connection moved to it; it is the active path now, and no longer a standby. */
        IN_USE,
        /** Given up: removed, or the server retired its connection ID with no replacement, or the connection ended. */
        REMOVED
    }

    private final MigratingConnection connection;
    private final InetSocketAddress localAddress;
    private final Duration probeInterval;
    private volatile State state = State.PROBING;
    private volatile Duration roundTrip;

    StandbyPath(MigratingConnection connection, InetSocketAddress localAddress, Duration probeInterval) {
        this.connection = connection;
        this.localAddress = localAddress;
        this.probeInterval = probeInterval;
    }

    /** {@return the local address the standby sends from (the bound port, never 0)} */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** {@return how often the standby is probed once it answered} */
    public Duration probeInterval() {
        return probeInterval;
    }

    /** {@return where the standby stands now} */
    public State state() {
        State now = state;
        return now != State.IN_USE && !connection.isOpen() ? State.REMOVED : now;
    }

    /** {@return the round trip its last answered probe measured, if it answered one} */
    public Optional<Duration> roundTrip() {
        return Optional.ofNullable(roundTrip);
    }

    /**
     * Waits until the standby answered a probe (or ended).
     *
     * @param timeout how long to wait at most
     * @return true if it is {@link State#READY}
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while ((state == State.PROBING || state == State.FAILED) && connection.isOpen()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                wait(Math.max(1, Math.min(50, left / 1_000_000))); // also notices the connection ending
            }
        }
        return state() == State.READY;
    }

    /** Gives the standby up: its connection ID is retired and its socket closed. Does nothing once it ended. */
    public void remove() {
        connection.removeStandby(this);
    }

    synchronized void changed(State newState, Duration newRoundTrip) {
        if (state == State.IN_USE || state == State.REMOVED) {
            return;
        }
        state = newState;
        if (newRoundTrip != null) {
            roundTrip = newRoundTrip;
        }
        notifyAll();
    }

    @Override
    public String toString() {
        return "standby " + localAddress + " " + state + roundTrip().map(rtt -> " rtt " + rtt.toMillis() + " ms").orElse("");
    }
}
