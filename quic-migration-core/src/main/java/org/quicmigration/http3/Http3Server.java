package org.quicmigration.http3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.quicmigration.BidirectionalStream;
import org.quicmigration.MigratingConnection;

/**
 * Serves HTTP/3 requests on a server connection whose application protocol is {@code "h3"}:
 *
 * <pre>{@code
 * MigrationServer.builder().applicationProtocol("h3")
 *         .onConnection(connection -> Http3Server.serve(connection, (request, responder) ->
 *                 responder.respond(200, Map.of("content-type", "text/plain"), "hello".getBytes())))
 *         ...
 * }</pre>
 */
public final class Http3Server {

    private static final System.Logger LOG = System.getLogger(Http3Server.class.getName());

    private Http3Server() {
    }

    /**
     * Opens the server's control stream, then answers every request stream on a daemon thread of its own until
     * the connection ends. Blocks; meant to be the body of {@code MigrationServer.Builder.onConnection}.
     *
     * @param connection a server connection whose application protocol is {@code "h3"}
     * @param handler    answers each request
     */
    public static void serve(MigratingConnection connection, Http3Handler handler) {
        try {
            Http3Frames.openControlStream(connection);
            while (connection.isOpen()) {
                BidirectionalStream stream;
                try {
                    stream = connection.acceptStream(Duration.ofMinutes(1));
                } catch (java.net.SocketTimeoutException e) {
                    continue; // no request for a minute: keep waiting while the connection lives
                }
                Thread worker = new Thread(() -> answer(connection, stream, handler), "h3-request-" + stream.id());
                worker.setDaemon(true);
                worker.start();
            }
        } catch (IOException | InterruptedException e) {
            // the connection ended
        }
    }

    private static void answer(MigratingConnection connection, BidirectionalStream stream, Http3Handler handler) {
        InputStream in = stream.getInputStream();
        OutputStream out = stream.getOutputStream();
        Http3Request request;
        try {
            request = readRequest(in);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "malformed HTTP/3 request on stream " + stream.id() + ": " + e);
            if (e instanceof Http3Exception malformed && malformed.connectionErrorCode() >= 0) {
                connection.close(malformed.connectionErrorCode(), malformed.getMessage());
            } else {
                stream.reset(Http3Frames.H3_MESSAGE_ERROR);
            }
            return;
        }
        Http3Responder responder = new Http3Responder(out);
        try {
            handler.handle(request, responder);
            if (!responder.started()) {
                responder.respond(404, Map.of(), new byte[0]);
            }
        } catch (IOException | RuntimeException e) {
            if (!responder.started()) {
                try {
                    responder.respond(500, Map.of(), new byte[0]);
                } catch (IOException ignored) {
                    // the connection ended
                }
            } else {
                stream.reset(Http3Frames.H3_MESSAGE_ERROR);
            }
            if (e instanceof RuntimeException) {
                LOG.log(System.Logger.Level.WARNING, "HTTP/3 handler failed for " + request, e);
            }
        }
    }

    static Http3Request readRequest(InputStream in) throws IOException {
        while (true) {
            long type = Http3Frames.readVarint(in);
            long length = Http3Frames.readVarint(in);
            if (type == Http3Frames.HEADERS) {
                List<Map.Entry<String, String>> fields = Http3Frames.readHeaders(in, length);
                if (fields.stream().noneMatch(f -> f.getKey().equals(":method"))) {
                    throw new Http3Exception("request without :method");
                }
                return new Http3Request(fields, new DataFrameInputStream(in));
            }
            if (type == Http3Frames.DATA) {
                throw new Http3Exception("DATA frame before the request's HEADERS");
            }
            Http3Frames.skip(in, length);
        }
    }
}
