package org.quicmigration.core;

/**
 * The peer broke a protocol rule; the connection must be closed with {@link #errorCode()} (RFC 9000 20.1).
 */
public final class TransportErrorException extends Exception {

    private static final long serialVersionUID = 1L;

    /** RFC 9000 20.1 codes the core can raise. */
    public static final long PROTOCOL_VIOLATION = 0x0a;
    public static final long FRAME_ENCODING_ERROR = 0x07;
    public static final long TRANSPORT_PARAMETER_ERROR = 0x08;
    public static final long CONNECTION_ID_LIMIT_ERROR = 0x09;

    private final long errorCode;

    public TransportErrorException(long errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    public long errorCode() {
        return errorCode;
    }
}
