package org.quicmigration.http3;

import java.io.IOException;

/** An HTTP/3 message that this layer cannot accept: malformed framing or header fields, or no status. */
public class Http3Exception extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was wrong with the message
     */
    public Http3Exception(String message) {
        super(message);
    }
}
