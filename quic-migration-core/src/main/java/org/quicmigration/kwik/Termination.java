package org.quicmigration.kwik;

/**
 * Internal: how a connection ended.
 *
 * @param kind        the way it ended
 * @param byPeer      true if the peer closed it
 * @param errorCode   the transport or application error code, or -1 if none (a clean close is code 0)
 * @param application true if {@code errorCode} is an application error code
 * @param description the reason phrase or a description of the cause, never null
 */
public record Termination(Kind kind, boolean byPeer, long errorCode, boolean application, String description) {

    /** The ways a connection can end. */
    public enum Kind {
        /** Closed with CONNECTION_CLOSE, by either side. */
        CLOSED,
        /** No packet arrived within the idle timeout. */
        IDLE_TIMEOUT,
        /** The peer sent a stateless reset. */
        STATELESS_RESET,
        /** Kwik gave up on the connection (for example too many lost packets). */
        LOST,
        /** The connection idled out while its network was gone and no other was usable. */
        NO_USABLE_NETWORK
    }

    static Termination localClose() {
        return new Termination(Kind.CLOSED, false, 0, true, "closed locally");
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        switch (kind) {
            case CLOSED -> text.append(byPeer ? "closed by peer" : "closed locally");
            case IDLE_TIMEOUT -> text.append("idle timeout");
            case STATELESS_RESET -> text.append("stateless reset by peer");
            case LOST -> text.append("lost by the QUIC engine");
            case NO_USABLE_NETWORK -> text.append("no usable network until the idle timeout");
        }
        if (errorCode > 0) {
            text.append(application ? ", application error " : ", transport error ").append(errorCode);
        }
        // Kwik describes a close without an error as "No error": nothing worth repeating.
        if (!description.isEmpty() && !description.equalsIgnoreCase("no error")) {
            text.append(": ").append(description);
        }
        return text.toString();
    }
}
