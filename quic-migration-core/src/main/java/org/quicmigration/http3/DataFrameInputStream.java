package org.quicmigration.http3;

import java.io.IOException;
import java.io.InputStream;

/**
 * The body of an HTTP/3 message: the payloads of its DATA frames, read from the stream as the caller reads.
 * Unknown frame types are skipped; a HEADERS frame after the body (trailers) is skipped and ends the body.
 */
final class DataFrameInputStream extends InputStream {

    private final InputStream stream;
    private long leftInFrame;
    private boolean ended;

    DataFrameInputStream(InputStream stream) {
        this.stream = stream;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        while (leftInFrame == 0) {
            if (ended) {
                return -1;
            }
            long type = Http3Frames.readVarintOrEnd(stream);
            if (type < 0) {
                ended = true;
                return -1;
            }
            long frameLength = Http3Frames.readVarint(stream);
            if (type == Http3Frames.DATA) {
                leftInFrame = frameLength;
            } else {
                Http3Frames.skip(stream, frameLength);
                if (type == Http3Frames.HEADERS) {
                    ended = true; // trailers: not offered by this layer, but they end the body
                }
            }
        }
        int n = stream.read(buffer, offset, (int) Math.min(length, leftInFrame));
        if (n < 0) {
            throw new java.io.EOFException("stream ended inside a DATA frame");
        }
        leftInFrame -= n;
        return n;
    }

    @Override
    public void close() throws IOException {
        stream.close();
    }
}
