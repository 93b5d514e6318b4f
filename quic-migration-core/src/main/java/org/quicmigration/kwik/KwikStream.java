package org.quicmigration.kwik;

import java.io.InputStream;
import java.io.OutputStream;

import tech.kwik.core.QuicStream;

/** Internal: one bidirectional Kwik stream, with Kwik's types kept inside this package. */
public final class KwikStream {

    private final QuicStream stream;

    KwikStream(QuicStream stream) {
        this.stream = stream;
    }

    public long id() {
        return stream.getStreamId();
    }

    public InputStream input() {
        return stream.getInputStream();
    }

    public OutputStream output() {
        return stream.getOutputStream();
    }

    /** Abandons sending: RESET_STREAM with the given application error code. */
    public void reset(long applicationErrorCode) {
        stream.resetStream(applicationErrorCode);
    }

    /** Abandons receiving: STOP_SENDING with the given application error code. */
    public void abortReading(long applicationErrorCode) {
        stream.abortReading(applicationErrorCode);
    }
}
