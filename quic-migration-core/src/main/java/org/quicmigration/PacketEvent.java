package org.quicmigration;

import java.time.Instant;
import java.util.List;

/**
 * One QUIC packet a connection sent or received, for packet traces and timelines. Received packets are reported
 * after decryption; a client reports its handshake packets too if its listener was set on the builder, while a
 * server connection exists for its application only once its handshake is done, so it reports 1-RTT packets.
 *
 * @param time                   when it was sent or received
 * @param direction              sent or received
 * @param path                   the path it travelled: our address and the peer's
 * @param destinationConnectionId its destination connection ID in hex (empty for a zero-length ID)
 * @param packetNumber           its packet number, or -1 for packets that have none (Retry, Version Negotiation)
 * @param packetType             its type, named as qlog names it: {@code initial}, {@code handshake}, {@code 0RTT},
 *                               {@code 1RTT}, {@code retry}, {@code version_negotiation}
 * @param size                   its size in bytes, header and authentication tag included
 * @param frames                 its frames in order; all PADDING of a packet counts as one {@code padding} frame
 */
public record PacketEvent(Instant time, Direction direction, NetworkPath path, String destinationConnectionId,
                          long packetNumber, String packetType, int size, List<Frame> frames) {

    /** Whether we sent the packet or received it. */
    public enum Direction {
        /** We sent it. */
        SENT,
        /** We received it. */
        RECEIVED
    }

    /**
     * One frame, as qlog describes it (draft-ietf-quic-qlog-quic-events-13): its {@code frame_type} and the fields
     * qlog defines for that type, by their qlog names. Values are {@code Long}, {@code Boolean}, {@code String}
     * (hex for bytes) or lists of those. The frames migration is about carry everything: {@code path_challenge}
     * and {@code path_response} their {@code data}; {@code new_connection_id} its {@code sequence_number},
     * {@code retire_prior_to}, {@code connection_id} and {@code stateless_reset_token}; {@code retire_connection_id}
     * its {@code sequence_number}. {@code padding} has {@code length}.
     *
     * @param type   the qlog frame type, e.g. {@code stream}, {@code ack}, {@code path_challenge}
     * @param fields the frame's fields
     */
    public record Frame(String type, java.util.Map<String, Object> fields) {
        /**
         * Creates a frame; the fields are copied, in their order.
         *
         * @param type   the qlog frame type
         * @param fields the frame's fields
         */
        public Frame {
            fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
        }

        /**
         * A field as a string ({@code ""} if absent), e.g. {@code frame.field("data")}.
         *
         * @param name the qlog field name
         * @return the value as a string, or {@code ""}
         */
        public String field(String name) {
            Object value = fields.get(name);
            return value == null ? "" : value.toString();
        }
    }

    /**
     * Creates an event; the frames are copied.
     *
     * @param time                    when it was sent or received
     * @param direction               sent or received
     * @param path                    the path it travelled
     * @param destinationConnectionId its destination connection ID in hex
     * @param packetNumber            its packet number, or -1
     * @param packetType              its qlog packet type
     * @param size                    its size in bytes
     * @param frames                  its frames in order
     */
    public PacketEvent {
        frames = List.copyOf(frames);
    }

    /** {@return the frames' types in order}, e.g. {@code [ack, stream]}. */
    public List<String> frameTypes() {
        return frames.stream().map(Frame::type).toList();
    }

    /**
     * The first frame of {@code type}, if the packet has one.
     *
     * @param type the qlog frame type
     * @return the frame, or empty
     */
    public java.util.Optional<Frame> frame(String type) {
        return frames.stream().filter(frame -> frame.type().equals(type)).findFirst();
    }
}
