package org.quicmigration.http3;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A response to an {@link Http3Client} request: its status and header fields, read when the request returned,
 * and its body, read from the network as {@link #body()} is read. Not thread-safe.
 */
public final class Http3Response {

    private final int status;
    private final List<Map.Entry<String, String>> headers;
    private final InputStream body;

    Http3Response(int status, List<Map.Entry<String, String>> headers, InputStream body) {
        this.status = status;
        this.headers = List.copyOf(headers);
        this.body = body;
    }

    /** {@return the status code}, for example 200. */
    public int status() {
        return status;
    }

    /** {@return the header fields in the order received, pseudo-header {@code :status} included} */
    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /**
     * The first value of the named header field (names are lower case in HTTP/3), if present.
     *
     * @param name the field name, lower case
     * @return the value, or empty
     */
    public Optional<String> header(String name) {
        return Http3Frames.firstValue(headers, name);
    }

    /**
     * The body, streamed: it keeps reading across migrations of the connection. Close it when done; reading to the
     * end closes nothing by itself.
     *
     * @return the body's stream
     */
    public InputStream body() {
        return body;
    }

    /**
     * Reads the whole body; for bodies that fit in memory.
     *
     * @return the body's bytes
     * @throws IOException if the stream or the connection ended first
     */
    public byte[] readBody() throws IOException {
        try (InputStream in = body) {
            return in.readAllBytes();
        }
    }

    @Override
    public String toString() {
        return "Http3Response[" + status + "]";
    }
}
