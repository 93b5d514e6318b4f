package org.quicmigration.kwik;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.Tuple;
import org.quicmigration.core.trace.PacketType;
import org.quicmigration.core.trace.TracedFrame;
import org.quicmigration.core.trace.TracedPacket;

import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.ConnectionCloseFrame;
import tech.kwik.core.frame.CryptoFrame;
import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.MaxDataFrame;
import tech.kwik.core.frame.MaxStreamDataFrame;
import tech.kwik.core.frame.MaxStreamsFrame;
import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.NewTokenFrame;
import tech.kwik.core.frame.Range;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.frame.StopSendingFrame;
import tech.kwik.core.frame.StreamDataBlockedFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.frame.StreamsBlockedFrame;
import tech.kwik.core.frame.Padding;
import tech.kwik.core.frame.PathChallengeFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.RetireConnectionIdFrame;
import tech.kwik.core.packet.HandshakePacket;
import tech.kwik.core.packet.InitialPacket;
import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.packet.RetryPacket;
import tech.kwik.core.packet.ShortHeaderPacket;
import tech.kwik.core.packet.VersionNegotiationPacket;
import tech.kwik.core.packet.ZeroRttPacket;

/**
 * Internal: turns a Kwik packet into a {@link TracedPacket}. Only called while someone observes packets, so the
 * allocation here never happens on an untraced connection.
 */
final class PacketDescriber {

    /** qlog frame types (draft-ietf-quic-qlog-quic-events-13) of the Kwik frames traced by type alone. */
    private static final Map<String, TracedFrame> BY_CLASS_NAME = Map.ofEntries(
            frame("AckFrame", "ack"), frame("StreamFrame", "stream"), frame("CryptoFrame", "crypto"),
            frame("PingFrame", "ping"), frame("MaxDataFrame", "max_data"), frame("MaxStreamDataFrame", "max_stream_data"),
            frame("MaxStreamsFrame", "max_streams"), frame("DataBlockedFrame", "data_blocked"),
            frame("StreamDataBlockedFrame", "stream_data_blocked"), frame("StreamsBlockedFrame", "streams_blocked"),
            frame("NewTokenFrame", "new_token"), frame("ResetStreamFrame", "reset_stream"),
            frame("StopSendingFrame", "stop_sending"), frame("ConnectionCloseFrame", "connection_close"),
            frame("HandshakeDoneFrame", "handshake_done"), frame("DatagramFrame", "datagram"));
    private static final TracedFrame UNKNOWN = new TracedFrame.Other("unknown");

    private PacketDescriber() {
    }

    private static Map.Entry<String, TracedFrame> frame(String kwikClass, String qlogType) {
        return Map.entry(kwikClass, new TracedFrame.Other(qlogType));
    }

    static TracedPacket describe(QuicPacket packet, boolean sent, Instant time, InetSocketAddress local,
                                 InetSocketAddress remote) {
        List<QuicFrame> frames = packet.getFrames();
        List<TracedFrame> traced = new ArrayList<>(frames.size());
        int padding = 0;
        for (QuicFrame frame : frames) {
            if (frame instanceof Padding pad) {
                padding += pad.getLength();
            } else if (frame instanceof RoutedProbeFrame probe) {
                traced.add(probe.isChallenge() ? new TracedFrame.PathChallenge(probe.data())
                        : new TracedFrame.PathResponse(probe.data()));
                padding += probe.padding();
            } else if (frame instanceof PathChallengeFrame challenge) {
                traced.add(new TracedFrame.PathChallenge(challenge.getData().clone()));
            } else if (frame instanceof PathResponseFrame response) {
                traced.add(new TracedFrame.PathResponse(response.getData().clone()));
            } else if (frame instanceof NewConnectionIdFrame newId) {
                traced.add(new TracedFrame.NewConnectionId(newId.getSequenceNr(), newId.getRetirePriorTo(),
                        ConnectionId.of(newId.getConnectionId()), newId.getStatelessResetToken().clone()));
            } else if (frame instanceof RetireConnectionIdFrame retire) {
                traced.add(new TracedFrame.RetireConnectionId(retire.getSequenceNr()));
            } else {
                traced.add(withFields(frame));
            }
        }
        if (padding > 0) {
            traced.add(new TracedFrame.Padding(padding)); // qlog: one padding frame per packet, with the total
        }
        Long number = packet.getPacketNumber();
        byte[] destination = packet.getDestinationConnectionId();
        return new TracedPacket(time, sent, new Tuple(local, remote),
                destination == null ? ConnectionId.of(new byte[0]) : ConnectionId.of(destination),
                number == null ? -1 : number, typeOf(packet), packet.getSize(), List.copyOf(traced));
    }

    /** The frame with the fields qlog requires for its type (draft-13); its type alone for the rest. */
    private static TracedFrame withFields(QuicFrame frame) {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        String type = streamFields(frame, fields);
        if (type == null) {
            type = controlFields(frame, fields);
        }
        if (type == null) {
            return BY_CLASS_NAME.getOrDefault(frame.getClass().getSimpleName(), UNKNOWN);
        }
        return new TracedFrame.Other(type, java.util.Collections.unmodifiableMap(fields));
    }

    /** The qlog type of a stream, crypto, ACK or credit frame, its fields put in {@code fields}; else null. */
    private static String streamFields(QuicFrame frame, Map<String, Object> fields) {
        if (frame instanceof StreamFrame stream) {
            fields.put("stream_id", (long) stream.getStreamId());
            fields.put("offset", stream.getOffset());
            fields.put("fin", stream.isFinal());
            fields.put("raw", Map.of("payload_length", (long) stream.getLength()));
            return "stream";
        } else if (frame instanceof CryptoFrame crypto) {
            fields.put("offset", crypto.getOffset());
            fields.put("raw", Map.of("payload_length", (long) crypto.getLength()));
            return "crypto";
        } else if (frame instanceof AckFrame ack) {
            List<List<Long>> ranges = new ArrayList<>();
            for (Range range : ack.getAcknowledgedRanges()) {
                ranges.add(range.getSmallest() == range.getLargest() ? List.of(range.getSmallest())
                        : List.of(range.getSmallest(), range.getLargest()));
            }
            java.util.Collections.reverse(ranges); // Kwik keeps them largest first; qlog's examples go upwards
            fields.put("acked_ranges", ranges);
            return "ack";
        } else if (frame instanceof MaxDataFrame maxData) {
            fields.put("maximum", maxData.getMaxData());
            return "max_data";
        } else if (frame instanceof MaxStreamDataFrame maxStreamData) {
            fields.put("stream_id", (long) maxStreamData.getStreamId());
            fields.put("maximum", maxStreamData.getMaxData());
            return "max_stream_data";
        } else if (frame instanceof MaxStreamsFrame maxStreams) {
            fields.put("stream_type", maxStreams.isAppliesToBidirectional() ? "bidirectional" : "unidirectional");
            fields.put("maximum", maxStreams.getMaxStreams());
            return "max_streams";
        }
        return null;
    }

    /** The qlog type of a blocked, reset, stop, token or close frame, its fields put in {@code fields}; else null. */
    private static String controlFields(QuicFrame frame, Map<String, Object> fields) {
        if (frame instanceof DataBlockedFrame blocked) {
            fields.put("limit", KwikStreams.dataBlockedLimit(blocked));
            return "data_blocked";
        } else if (frame instanceof StreamDataBlockedFrame blocked) {
            fields.put("stream_id", (long) blocked.getStreamId());
            fields.put("limit", blocked.getStreamDataLimit());
            return "stream_data_blocked";
        } else if (frame instanceof StreamsBlockedFrame blocked) {
            fields.put("stream_type", blocked.isBidirectional() ? "bidirectional" : "unidirectional");
            fields.put("limit", blocked.getStreamLimit());
            return "streams_blocked";
        } else if (frame instanceof ResetStreamFrame reset) {
            fields.put("stream_id", (long) reset.getStreamId());
            fields.put("error", "unknown");
            fields.put("error_code", reset.getErrorCode());
            fields.put("final_size", reset.getFinalSize());
            return "reset_stream";
        } else if (frame instanceof StopSendingFrame stop) {
            fields.put("stream_id", (long) stop.getStreamId());
            fields.put("error", "unknown");
            fields.put("error_code", stop.getErrorCode());
            return "stop_sending";
        } else if (frame instanceof NewTokenFrame token) {
            fields.put("token", Map.of("raw", Map.of("data", java.util.HexFormat.of().formatHex(token.getToken()))));
            return "new_token";
        } else if (frame instanceof ConnectionCloseFrame close) {
            fields.put("error_space", close.hasApplicationProtocolError() ? "application" : "transport");
            fields.put("error_code", close.getErrorCode());
            if (close.hasReasonPhrase()) {
                fields.put("reason", close.getReasonPhrase());
            }
            return "connection_close";
        }
        return null;
    }

    private static PacketType typeOf(QuicPacket packet) {
        if (packet instanceof ShortHeaderPacket) {
            return PacketType.ONE_RTT;
        } else if (packet instanceof InitialPacket) {
            return PacketType.INITIAL;
        } else if (packet instanceof HandshakePacket) {
            return PacketType.HANDSHAKE;
        } else if (packet instanceof ZeroRttPacket) {
            return PacketType.ZERO_RTT;
        } else if (packet instanceof RetryPacket) {
            return PacketType.RETRY;
        } else if (packet instanceof VersionNegotiationPacket) {
            return PacketType.VERSION_NEGOTIATION;
        }
        return PacketType.UNKNOWN;
    }
}
