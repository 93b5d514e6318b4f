package org.quicmigration;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The standby path of one client connection as the application holds it: its handle, and the binding's last report
 * about a standby, which can arrive before {@link MigratingConnection#addStandbyPath} has made the handle (the first
 * answer may beat the caller's thread). Thread-safe.
 */
final class StandbyReports {

    private StandbyPath handle;
    private InetSocketAddress lastLocal;
    private StandbyPath.State lastState;
    private Duration lastRoundTrip;

    /** Makes {@code fresh} the standby's handle, bringing it up to date with what was reported already. */
    synchronized void adopt(StandbyPath fresh) {
        if (fresh.localAddress().equals(lastLocal)) {
            fresh.changed(lastState, lastRoundTrip);
        }
        handle = fresh;
    }

    /** The binding reports the standby on {@code local}; {@code roundTrip} null if it answered no probe yet. */
    synchronized void report(InetSocketAddress local, StandbyPath.State state, Duration roundTrip) {
        lastLocal = local;
        lastState = state;
        lastRoundTrip = roundTrip;
        if (handle != null && handle.localAddress().equals(local)) {
            handle.changed(state, roundTrip);
        }
    }

    /** Whether {@code candidate} is the handle of the standby now. */
    synchronized boolean isCurrent(StandbyPath candidate) {
        return candidate == handle;
    }
}
