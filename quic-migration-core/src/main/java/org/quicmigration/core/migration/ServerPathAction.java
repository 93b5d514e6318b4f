package org.quicmigration.core.migration;

import org.quicmigration.core.Tuple;

/** What the server side of the migration core asks its caller to do, in the order given. */
public sealed interface ServerPathAction {

    /**
     * Send the connection's packets to {@code tuple} from now on (subject to {@link ServerPathManager#canSend}).
     *
     * @param freshClientId whether to switch to a client connection ID no other path used as well (RFC 9000 9.5: "an
     *                      endpoint MUST NOT reuse a connection ID when sending to more than one destination
     *                      address"): false when the client kept its own ID (a NAT rebinding) or when going back to
     *                      the last validated path
     */
    record SendOn(Tuple tuple, boolean freshClientId) implements ServerPathAction {
    }

    /** Send a PATH_CHALLENGE with {@code data} on {@code tuple}, padded to 1200 bytes if the budget allows. */
    record SendPathChallenge(Tuple tuple, byte[] data) implements ServerPathAction {
    }

    /** RFC 9000 9.4: reset congestion control and RTT for the new path (not done for a port-only change). */
    record ResetRecovery(Tuple tuple) implements ServerPathAction {
    }

    /** A PATH_RESPONSE answered the challenge sent on {@code tuple}; the address is validated (RFC 9000 8.2.3). */
    record PathValidated(Tuple tuple, long roundTripNanos) implements ServerPathAction {
    }

    /** {@code tuple} did not answer its challenges in time (RFC 9000 8.2.4). */
    record ValidationFailed(Tuple tuple) implements ServerPathAction {
    }

    /**
     * The client moved and its new address is validated; the connection now lives on {@code to}.
     *
     * @param atOnce whether the path was validated when the connection moved there (the client probed it first, used
     *               it recently, or it is a preferred address, whose move waits for its validation: RFC 9000 9.6.2),
     *               so no validation of the new path follows the move
     */
    record Migrated(Tuple from, Tuple to, long validationRttNanos, boolean atOnce) implements ServerPathAction {
    }

    /** Validation of {@code failed} timed out; the connection went back to {@code restored}, its last validated path. */
    record FellBack(Tuple failed, Tuple restored) implements ServerPathAction {
    }
}
