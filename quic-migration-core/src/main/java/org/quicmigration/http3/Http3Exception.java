package org.quicmigration.http3;

import java.io.IOException;

/** An HTTP/3 message that this layer cannot accept: malformed framing or header fields, or no status. */
public class Http3Exception extends IOException {

    private static final long serialVersionUID = 1L;

    /** The HTTP/3 error code the connection is closed with, or -1 if the failure concerns this message only. */
    private final long connectionErrorCode;

    /**
     * Creates the exception.
     *
     * @param message what was wrong with the message
     */
    public Http3Exception(String message) {
        this(message, -1);
    }

    Http3Exception(String message, long connectionErrorCode) {
        super(message);
        this.connectionErrorCode = connectionErrorCode;
    }

    long connectionErrorCode() {
        return connectionErrorCode;
    }
}
