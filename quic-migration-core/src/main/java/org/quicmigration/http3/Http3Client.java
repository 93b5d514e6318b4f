package org.quicmigration.http3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;

/**
 * HTTP/3 requests over a {@link MigratingConnection} whose application protocol is {@code "h3"}: each request
 * is a stream of the connection, so a download keeps going when the connection migrates.
 *
 * <pre>{@code
 * try (MigratingConnection connection = MigratingClient.builder().server(address).serverName("example.org")
 *         .applicationProtocol("h3").build().connect()) {
 *     Http3Client http = Http3Client.over(connection);
 *     Http3Response response = http.get(URI.create("https://example.org/file"));
 *     try (InputStream body = response.body()) {
 *         ... // connection.migrate(...) may be called meanwhile
 *     }
 * }
 * }</pre>
 *
 * <p>Thread-safe: requests may run concurrently, each on its own stream.
 */
public final class Http3Client {

    private final MigratingConnection connection;
    @SuppressWarnings("unused") // kept open for the connection's life: closing a control stream is an error (RFC 9114 6.2.1)
    private final OutputStream control;

    private Http3Client(MigratingConnection connection, OutputStream control) {
        this.connection = connection;
        this.control = control;
    }

    /**
     * Starts HTTP/3 on the connection: opens the client's control stream with its SETTINGS. Call once per
     * connection.
     *
     * @param connection a client connection whose application protocol is {@code "h3"}
     * @return the client for requests on that connection
     * @throws IOException if the connection has ended
     */
    public static Http3Client over(MigratingConnection connection) throws IOException {
        Objects.requireNonNull(connection, "connection");
        return new Http3Client(connection, Http3Frames.openControlStream(connection));
    }

    /**
     * GET {@code uri} (an {@code https} URI): sends the request and waits for the response's header fields.
     *
     * @param uri the {@code https} URI
     * @return the response, its body still to be read
     * @throws Http3Exception if the response is malformed; one whose header fields QPACK cannot decode also closes
     *                        the connection with QPACK_DECOMPRESSION_FAILED (RFC 9204)
     * @throws IOException if the connection or the stream ended first
     * @throws IllegalArgumentException if the URI is not {@code https} or has no authority
     */
    public Http3Response get(URI uri) throws IOException {
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("HTTP/3 needs an https URI with an authority, was " + uri);
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        return get(uri.getRawAuthority(), path);
    }

    /**
     * GET {@code path} from {@code authority} (host, or host:port); see {@link #get(URI)}.
     *
     * @param authority the {@code :authority}: host, or host:port
     * @param path      the {@code :path}, starting with {@code /}
     * @return the response, its body still to be read
     * @throws Http3Exception if the response is malformed; one whose header fields QPACK cannot decode also closes
     *                        the connection with QPACK_DECOMPRESSION_FAILED (RFC 9204)
     * @throws IOException if the connection or the stream ended first
     */
    public Http3Response get(String authority, String path) throws IOException {
        Objects.requireNonNull(authority, "authority");
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("path must start with '/', was " + path);
        }
        BidirectionalStream stream = connection.openStream();
        OutputStream out = stream.getOutputStream();
        Http3Frames.writeHeaders(out, List.of(
                Map.entry(":method", "GET"),
                Map.entry(":scheme", "https"),
                Map.entry(":authority", authority),
                Map.entry(":path", path)));
        out.close(); // no body: FIN
        try {
            return readResponse(stream.getInputStream());
        } catch (Http3Exception e) {
            if (e.connectionErrorCode() >= 0) {
                connection.close(e.connectionErrorCode(), e.getMessage());
            } else {
                stream.stopReading(Http3Frames.H3_MESSAGE_ERROR); // our side has ended with FIN already
            }
            throw e;
        }
    }

    static Http3Response readResponse(InputStream in) throws IOException {
        while (true) {
            long type = Http3Frames.readVarint(in);
            long length = Http3Frames.readVarint(in);
            if (type == Http3Frames.HEADERS) {
                List<Map.Entry<String, String>> fields = Http3Frames.readHeaders(in, length);
                int status = status(fields);
                if (status >= 100 && status < 200) {
                    continue; // informational (RFC 9114 4.1): the final response follows
                }
                return new Http3Response(status, fields, new DataFrameInputStream(in));
            }
            if (type == Http3Frames.DATA) {
                throw new Http3Exception("DATA frame before the response's HEADERS (RFC 9114 4.1)");
            }
            Http3Frames.skip(in, length);
        }
    }

    /**
     * RFC 9110 15: "The status code of a response is a three-digit integer code ... All valid status codes are
     * within the range of 100 to 599, inclusive." Anything else is an invalid pseudo-header value, so the response
     * is malformed, and RFC 9114 4.1.2: "Malformed requests or responses that are detected MUST be treated as a
     * stream error of type H3_MESSAGE_ERROR."
     */
    private static int status(List<Map.Entry<String, String>> fields) throws Http3Exception {
        for (Map.Entry<String, String> field : fields) {
            if (field.getKey().equals(":status")) {
                String value = field.getValue();
                if (value.length() != 3 || value.chars().anyMatch(c -> c < '0' || c > '9')
                        || value.charAt(0) < '1' || value.charAt(0) > '5') {
                    throw new Http3Exception("bad :status \"" + value + "\": not three digits from 100 to 599");
                }
                return Integer.parseInt(value);
            }
        }
        throw new Http3Exception("response without :status");
    }
}
