package org.quicmigration;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.quicmigration.kwik.KwikStream;

/**
 * One bidirectional QUIC stream of a {@link MigratingConnection}: bytes written to {@link #getOutputStream()}
 * arrive in order at the peer; closing the output stream sends FIN. Streams keep working across migrations.
 *
 * <p>If the connection ends while a stream is in use, reads and writes throw {@link ConnectionClosedException}
 * instead of blocking. The input and output streams may be used from two different threads; each of them by one
 * thread at a time.
 */
public final class BidirectionalStream {

    private final KwikStream stream;
    private final MigratingConnection connection;
    private final InputStream input;
    private final OutputStream output;

    BidirectionalStream(KwikStream stream, MigratingConnection connection) {
        this.stream = stream;
        this.connection = connection;
        this.input = new Input(stream.input());
        this.output = connection.publicOutput(stream.output());
    }

    /** {@return the QUIC stream id} */
    public long id() {
        return stream.id();
    }

    /** {@return the bytes the peer sends}; {@code read} returns -1 after the peer's FIN. */
    public InputStream getInputStream() {
        return input;
    }

    /** {@return the bytes we send}; {@code close()} ends our side of the stream with FIN. */
    public OutputStream getOutputStream() {
        return output;
    }

    /**
     * Abandons our side of the stream (RESET_STREAM): unsent data is discarded.
     *
     * @param applicationErrorCode the application error code the peer receives in RESET_STREAM
     */
    public void reset(long applicationErrorCode) {
        stream.reset(applicationErrorCode);
    }

    /**
     * Tells the peer to stop sending on this stream (STOP_SENDING).
     *
     * @param applicationErrorCode the application error code the peer receives in STOP_SENDING
     */
    public void stopReading(long applicationErrorCode) {
        stream.abortReading(applicationErrorCode);
    }

    @Override
    public String toString() {
        return "BidirectionalStream[" + id() + "]";
    }

    private IOException translate(IOException e) {
        return connection.publicException(e);
    }

    private final class Input extends FilterInputStream {
        Input(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (IOException e) {
                throw translate(e);
            }
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            try {
                return in.read(buffer, offset, length);
            } catch (IOException e) {
                throw translate(e);
            }
        }
    }
}
