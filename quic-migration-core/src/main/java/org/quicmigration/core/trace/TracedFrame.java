package org.quicmigration.core.trace;

import org.quicmigration.core.ConnectionId;

/**
 * One frame of a traced packet. Frames that matter to migration carry their fields; every other frame only its
 * type. {@link #qlogType()} is the {@code frame_type} qlog gives it (draft-ietf-quic-qlog-quic-events-13).
 */
public sealed interface TracedFrame {

    /** The qlog frame type, e.g. {@code "stream"}, {@code "path_challenge"}. */
    String qlogType();

    /**
     * Any other frame: its qlog type and the fields qlog defines for it, by their qlog names, in order. Values are
     * {@code Long}, {@code Boolean}, {@code String} or, for ACK ranges, {@code List<List<Long>>}.
     */
    record Other(String qlogType, java.util.Map<String, Object> fields) implements TracedFrame {
        public Other(String qlogType) {
            this(qlogType, java.util.Map.of());
        }
    }

    /** PADDING: qlog logs one per packet, with the number of padding bytes. */
    record Padding(int length) implements TracedFrame {
        @Override
        public String qlogType() {
            return "padding";
        }
    }

    /** PATH_CHALLENGE (RFC 9000 19.17) with its 8 bytes of data. */
    record PathChallenge(byte[] data) implements TracedFrame {
        @Override
        public String qlogType() {
            return "path_challenge";
        }
    }

    /** PATH_RESPONSE (RFC 9000 19.18) with the 8 bytes it echoes. */
    record PathResponse(byte[] data) implements TracedFrame {
        @Override
        public String qlogType() {
            return "path_response";
        }
    }

    /** NEW_CONNECTION_ID (RFC 9000 19.15). */
    record NewConnectionId(long sequenceNumber, long retirePriorTo, ConnectionId connectionId, byte[] resetToken)
            implements TracedFrame {
        @Override
        public String qlogType() {
            return "new_connection_id";
        }
    }

    /** RETIRE_CONNECTION_ID (RFC 9000 19.16). */
    record RetireConnectionId(long sequenceNumber) implements TracedFrame {
        @Override
        public String qlogType() {
            return "retire_connection_id";
        }
    }
}
