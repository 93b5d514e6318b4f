package org.quicmigration.kwik;

/** Internal: placeholder, filled in with the flow-control stall work-around. */
final class FlowControlGuard {
    static FlowControlGuard none() {
        return new FlowControlGuard();
    }

    void stop() {
    }
}
