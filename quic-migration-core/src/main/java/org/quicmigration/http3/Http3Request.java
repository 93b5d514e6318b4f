package org.quicmigration.http3;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A request received by an {@link Http3Server}: method, path, authority, header fields and body. */
public final class Http3Request {

    private final List<Map.Entry<String, String>> headers;
    private final InputStream body;

    Http3Request(List<Map.Entry<String, String>> headers, InputStream body) {
        this.headers = List.copyOf(headers);
        this.body = body;
    }

    /** {@return the {@code :method}}, for example GET. */
    public String method() {
        return header(":method").orElse("");
    }

    /** {@return the {@code :path}}, for example {@code /index.html?x=1}. */
    public String path() {
        return header(":path").orElse("");
    }

    /** {@return the {@code :authority}, if the client sent one} */
    public Optional<String> authority() {
        return header(":authority");
    }

    /** {@return the header fields in the order received, pseudo-headers included} */
    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /**
     * The first value of the named header field, if present.
     *
     * @param name the field name, lower case
     * @return the value, or empty
     */
    public Optional<String> header(String name) {
        return Http3Frames.firstValue(headers, name);
    }

    /** {@return the request body} (empty for a GET) */
    public InputStream body() {
        return body;
    }

    @Override
    public String toString() {
        return "Http3Request[" + method() + " " + path() + "]";
    }
}
