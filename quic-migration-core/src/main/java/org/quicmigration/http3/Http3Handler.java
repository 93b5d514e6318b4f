package org.quicmigration.http3;

import java.io.IOException;

/** Answers HTTP/3 requests for an {@link Http3Server}; called on a thread of the request's own. */
@FunctionalInterface
public interface Http3Handler {

    /**
     * Answers {@code request} through {@code responder}. If it returns without starting a response, the server
     * answers 404; if it throws before starting one, 500.
     *
     * @param request   the request, its body still to be read
     * @param responder where the response goes
     * @throws IOException if the stream or the connection ended
     */
    void handle(Http3Request request, Http3Responder responder) throws IOException;
}
