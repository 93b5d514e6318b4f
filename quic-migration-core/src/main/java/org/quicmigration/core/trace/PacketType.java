package org.quicmigration.core.trace;

/** QUIC packet types, with the names qlog gives them (draft-ietf-quic-qlog-quic-events-13, {@code PacketType}). */
public enum PacketType {
    INITIAL("initial"),
    HANDSHAKE("handshake"),
    ZERO_RTT("0RTT"),
    ONE_RTT("1RTT"),
    RETRY("retry"),
    VERSION_NEGOTIATION("version_negotiation"),
    UNKNOWN("unknown");

    private final String qlogName;

    PacketType(String qlogName) {
        this.qlogName = qlogName;
    }

    /** The name qlog uses, e.g. {@code "1RTT"}. */
    public String qlogName() {
        return qlogName;
    }
}
