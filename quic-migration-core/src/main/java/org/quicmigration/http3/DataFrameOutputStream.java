package org.quicmigration.http3;

import java.io.IOException;
import java.io.OutputStream;

/** A message body written as DATA frames of up to {@link #FRAME_BYTES} bytes; closing it ends the stream (FIN). */
final class DataFrameOutputStream extends OutputStream {

    static final int FRAME_BYTES = 32 * 1024;

    private final OutputStream stream;
    private final byte[] buffer = new byte[FRAME_BYTES];
    private int buffered;
    private boolean closed;

    DataFrameOutputStream(OutputStream stream) {
        this.stream = stream;
    }

    @Override
    public void write(int b) throws IOException {
        ensureOpen();
        if (buffered == buffer.length) {
            emit();
        }
        buffer[buffered++] = (byte) b;
    }

    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        ensureOpen();
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        while (length > 0) {
            if (buffered == buffer.length) {
                emit();
            }
            int n = Math.min(length, buffer.length - buffered);
            System.arraycopy(data, offset, buffer, buffered, n);
            buffered += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public void flush() throws IOException {
        ensureOpen();
        emit();
        stream.flush();
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            emit();
            closed = true;
            stream.close();
        }
    }

    private void emit() throws IOException {
        if (buffered > 0) {
            Http3Frames.writeFrameHeader(stream, Http3Frames.DATA, buffered);
            stream.write(buffer, 0, buffered);
            buffered = 0;
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("response body already closed");
        }
    }
}
