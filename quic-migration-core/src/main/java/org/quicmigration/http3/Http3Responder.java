package org.quicmigration.http3;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Sends the response to one {@link Http3Request}: either whole with {@link #respond}, or streamed with {@link #start}. */
public final class Http3Responder {

    private final OutputStream stream;
    private boolean started;

    Http3Responder(OutputStream stream) {
        this.stream = stream;
    }

    /**
     * Sends a complete response and ends the stream.
     *
     * @param status  the final status code, 200 to 599
     * @param headers header fields with lower-case names, no pseudo-headers
     * @param body    the whole body
     * @throws IllegalStateException if the response was already started
     * @throws IOException if the stream or the connection ended
     */
    public void respond(int status, Map<String, String> headers, byte[] body) throws IOException {
        try (OutputStream out = start(status, headers)) {
            out.write(body);
        }
    }

    /**
     * Sends the status and header fields; returns the body's stream, to be written and then closed (which ends the
     * response). {@code content-length} is not added: the end of the stream ends the body.
     *
     * @param status  the final status code, 200 to 599
     * @param headers header fields with lower-case names, no pseudo-headers
     * @return the body's stream; close it to end the response
     * @throws IllegalStateException if the response was already started
     * @throws IOException if the stream or the connection ended
     */
    public OutputStream start(int status, Map<String, String> headers) throws IOException {
        if (started) {
            throw new IllegalStateException("the response was already started");
        }
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("final status must be 200-599, was " + status);
        }
        started = true;
        List<Map.Entry<String, String>> fields = new ArrayList<>();
        fields.add(Map.entry(":status", Integer.toString(status)));
        for (Map.Entry<String, String> header : headers.entrySet()) {
            String name = header.getKey();
            if (name.isEmpty() || name.startsWith(":") || !name.equals(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("header names must be lower case and not pseudo-headers: " + name);
            }
            fields.add(Map.entry(name, header.getValue()));
        }
        Http3Frames.writeHeaders(stream, fields);
        return new DataFrameOutputStream(stream);
    }

    boolean started() {
        return started;
    }
}
