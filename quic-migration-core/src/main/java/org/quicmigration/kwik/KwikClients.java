package org.quicmigration.kwik;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.impl.QuicClientConnectionImpl;

/** Internal: opens Kwik client connections and classifies why one could not be opened. */
public final class KwikClients {

    /** Extra wait beyond Kwik's own connect timeout before we stop waiting for Kwik to report. */
    private static final long REPORT_GRACE_MILLIS = 1_000;

    private KwikClients() {
    }

    /**
     * Opens a connection and completes the handshake, within the configured timeout.
     *
     * @throws ConnectFailure with a kind that says what happened
     */
    public static KwikConnection connect(ClientSettings settings) throws ConnectFailure, InterruptedException {
        return connect(settings, connection -> { });
    }

    /**
     * Opens a connection as {@link #connect(ClientSettings)} does, calling {@code beforeHandshake} with it before
     * the first packet is sent (to attach packet observers that should see the handshake).
     */
    public static KwikConnection connect(ClientSettings settings, java.util.function.Consumer<KwikConnection> beforeHandshake)
            throws ConnectFailure, InterruptedException {
        KwikInternals.verify();
        CompletableFuture<Void> portUnreachable = new CompletableFuture<>();
        AtomicReference<ClientPathSocket> socket = new AtomicReference<>();
        AtomicReference<KwikConnection> holder = new AtomicReference<>();
        QuicClientConnectionImpl connection = build(settings, portUnreachable, socket, holder);
        if (settings.keyLog() != null) {
            // W31 (docs/kwik-workarounds.md#w31), before the engine produces any secret.
            KwikHandshake.logClientSecrets(connection, settings.keyLog());
        }
        KwikConnection result = new KwikConnection(connection,
                (InetSocketAddress) socket.get().getLocalSocketAddress(), settings.server(), StallGuard.start(connection, true));
        result.clientSocket(socket.get());
        holder.set(result);
        connection.setPeerInitiatedStreamCallback(result::peerOpenedStream);
        beforeHandshake.accept(result);

        // agent15 records that it waits for the ServerHello only after handing over the ClientHello; a ServerHello
        // read before that would be ignored for good (W6, docs/kwik-workarounds.md#w6).
        socket.get().holdReceivedUntil(() -> KwikHandshake.clientHelloSent(connection),
                settings.connectTimeout().toMillis());
        CompletableFuture<Void> handshake = startHandshake(connection, settings.server());
        long waitMillis = settings.connectTimeout().toMillis() + REPORT_GRACE_MILLIS;
        try {
            CompletableFuture.anyOf(handshake, portUnreachable, result.ended()).get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            // handshake failed; classified below
        } catch (TimeoutException e) {
            result.terminated(new Termination(Termination.Kind.LOST, false, -1, false, "handshake timed out"));
            connection.abortConnection(e);
            throw new ConnectFailure(ConnectFailure.Kind.TIMEOUT,
                    "no QUIC handshake with " + settings.server() + " within " + settings.connectTimeout().toMillis() + " ms",
                    e);
        } catch (InterruptedException e) {
            result.terminated(new Termination(Termination.Kind.LOST, false, -1, false, "interrupted"));
            connection.abortConnection(e);
            throw e;
        }
        if (handshake.isDone() && !handshake.isCompletedExceptionally()) {
            return established(settings, connection, socket.get(), result);
        }
        throw failed(settings, connection, result, handshake, portUnreachable);
    }

    /** Runs Kwik's blocking {@code connect()} on a daemon thread of its own; the future says how it ended. */
    private static CompletableFuture<Void> startHandshake(QuicClientConnectionImpl connection, InetSocketAddress server) {
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        Thread connector = new Thread(() -> {
            try {
                connection.connect();
                handshake.complete(null);
            } catch (Throwable e) {
                handshake.completeExceptionally(e);
            }
        }, "quic-migration-connect " + server);
        connector.setDaemon(true);
        connector.start();
        return handshake;
    }

    /** The handshake completed: the work-arounds that need a live connection, then the migration driver. */
    private static KwikConnection established(ClientSettings settings, QuicClientConnectionImpl connection,
                                              ClientPathSocket socket, KwikConnection result) throws ConnectFailure {
        KwikCongestion.keepRttAboveZero(connection);
        KwikAcks.shareIdleTimer(connection); // a thread less per connection (W9)
        KwikAcks.stopPingPongWhenIdle(connection); // else an idle connection on a fast path never idles out (W8)
        try {
            PeerPreferredAddress.of(connection.getPeerTransportParameters());
        } catch (org.quicmigration.core.TransportErrorException e) {
            // RFC 9000 18.2 (see PeerPreferredAddress): "A client MUST treat a violation of these requirements as
            // a connection error of type TRANSPORT_PARAMETER_ERROR."
            connection.close(tech.kwik.core.QuicConstants.TransportErrorCode.TRANSPORT_PARAMETER_ERROR, e.getMessage());
            result.terminated(new Termination(Termination.Kind.CLOSED, false, e.errorCode(), false, e.getMessage()));
            throw new ConnectFailure(ConnectFailure.Kind.PROTOCOL_VIOLATION, "server " + settings.server() + " sent "
                    + e.getMessage() + "; closed with TRANSPORT_PARAMETER_ERROR", e);
        }
        boolean localAddressChosen = settings.localAddress() != null && !settings.localAddress().getAddress().isAnyLocalAddress();
        result.migrationDriver(ClientMigrationDriver.start(connection, socket, settings.server(),
                new java.security.SecureRandom(), settings.followPreferredAddress(), settings.policy(),
                settings.networks(), localAddressChosen));
        return result;
    }

    /** The handshake did not complete: the connection is aborted, and the failure says why. */
    private static ConnectFailure failed(ClientSettings settings, QuicClientConnectionImpl connection,
                                         KwikConnection result, CompletableFuture<Void> handshake,
                                         CompletableFuture<Void> portUnreachable) {
        Termination ended = result.termination();
        result.terminated(new Termination(Termination.Kind.LOST, false, -1, false, "handshake failed"));
        if (portUnreachable.isDone() && !handshake.isDone()) {
            connection.abortConnection(new SocketException("port unreachable"));
            return new ConnectFailure(ConnectFailure.Kind.UNREACHABLE,
                    "nothing listens on UDP " + settings.server() + " (ICMP port unreachable)", null);
        }
        // W28 (docs/kwik-workarounds.md#w28): Kwik 0.10.9 does not always wake connect() when the server closes
        // during the handshake; the termination event does arrive, so it is used.
        Throwable cause = handshake.isDone() ? handshake.handle((ok, error) -> error).join() : null;
        connection.abortConnection(new SocketException("handshake failed"));
        return classify(settings, ended, cause, portUnreachable.isDone());
    }

    private static QuicClientConnectionImpl build(ClientSettings settings, CompletableFuture<Void> portUnreachable,
                                                  AtomicReference<ClientPathSocket> socketHolder,
                                                  AtomicReference<KwikConnection> holder) throws ConnectFailure {
        InetSocketAddress server = settings.server();
        InetSocketAddress local = settings.localAddress() != null ? settings.localAddress() : new InetSocketAddress(0);
        QuicClientConnection.Builder builder = QuicClientConnection.newBuilder()
                // Kwik resolves the "proxy" and sends there, and uses "host" for SNI and the certificate check.
                .host(settings.serverName())
                .proxy(server.getAddress().getHostAddress())
                .port(server.getPort())
                .applicationProtocol(settings.applicationProtocol())
                .connectTimeout(settings.connectTimeout())
                .maxIdleTimeout(settings.idleTimeout())
                .defaultStreamReceiveBufferSize(settings.streamReceiveWindow())
                .maxOpenPeerInitiatedBidirectionalStreams(100)
                .maxOpenPeerInitiatedUnidirectionalStreams(3)
                .logger(new FrameObserver(KwikLogging.logger(), ignoredCid -> holder.get(), holder::get))
                .socketFactory(ignoredKwikResolvedAddress -> {
                    ClientPathSocket socket = new ClientPathSocket(local, server, () -> portUnreachable.complete(null));
                    socketHolder.set(socket);
                    return socket;
                });
        if (settings.trustManager() == null) {
            builder.noServerCertificateCheck();
        } else {
            builder.customTrustManager(settings.trustManager());
        }
        try {
            return (QuicClientConnectionImpl) builder.build();
        } catch (IOException | RuntimeException e) {
            throw new ConnectFailure(ConnectFailure.Kind.LOCAL_ERROR,
                    "cannot open a UDP socket on " + local + " for " + server + ": " + e.getMessage(), e);
        }
    }

    /** RFC 9001 4.8: a TLS alert is carried as CRYPTO_ERROR 0x100 + the alert description. */
    private static final long CRYPTO_ERROR_BASE = 0x100;
    private static final long ALERT_NO_APPLICATION_PROTOCOL = 120;
    private static final java.util.Set<Long> CERTIFICATE_ALERTS = java.util.Set.of(
            42L /* bad_certificate */, 43L /* unsupported_certificate */, 44L /* certificate_revoked */,
            45L /* certificate_expired */, 46L /* certificate_unknown */, 48L /* unknown_ca */,
            116L /* certificate_required */);

    static ConnectFailure classify(ClientSettings settings, Termination ended, Throwable cause,
                                   boolean sawPortUnreachable) {
        String server = settings.server().toString();
        String text = ended != null && cause == null ? ended.toString() : describe(cause);
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        long alert = ended != null && !ended.application() && ended.errorCode() > CRYPTO_ERROR_BASE
                ? ended.errorCode() - CRYPTO_ERROR_BASE : -1;
        if (alert == ALERT_NO_APPLICATION_PROTOCOL || lower.contains("no_application_protocol")
                || lower.contains("application protocol")) {
            return new ConnectFailure(ConnectFailure.Kind.APPLICATION_PROTOCOL_REJECTED,
                    "server " + server + " does not speak application protocol \"" + settings.applicationProtocol()
                            + "\" (" + text + ")", cause);
        }
        if (CERTIFICATE_ALERTS.contains(alert) || lower.contains("certificate") || lower.contains("bad_certificate") || lower.contains("0x12a")
                || lower.contains("certificate_unknown") || lower.contains("hostname")) {
            return new ConnectFailure(ConnectFailure.Kind.CERTIFICATE_REJECTED,
                    "certificate check failed for " + settings.serverName() + " at " + server + " (" + text + ")", cause);
        }
        if (sawPortUnreachable) {
            return new ConnectFailure(ConnectFailure.Kind.UNREACHABLE,
                    "nothing listens on UDP " + server + " (ICMP port unreachable)", cause);
        }
        if (lower.contains("timed out") || lower.contains("timeout") || cause instanceof java.net.SocketTimeoutException) {
            return new ConnectFailure(ConnectFailure.Kind.TIMEOUT,
                    "no QUIC handshake with " + server + " within " + settings.connectTimeout().toMillis() + " ms", cause);
        }
        return new ConnectFailure(ConnectFailure.Kind.REFUSED,
                "server " + server + " ended the handshake: " + text, cause);
    }

    private static String describe(Throwable cause) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (text.length() > 0) {
                text.append(": ");
            }
            text.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
            if (t.getCause() == t) {
                break;
            }
        }
        return text.toString();
    }
}
