package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;

import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Internal: Kwik's handshake and keys: handshake state, TLS engine, secrets and the transport parameters received.
 * Each member is looked up by name where it is declared, when the class loads; {@link KwikInternals#verify()}
 * reports any that is missing at start-up.
 */
final class KwikHandshake {

    private static final Field HANDSHAKE_STATE = KwikMembers.field(QuicConnectionImpl.class, "handshakeState");
    private static final Field CONNECTION_SECRETS = KwikMembers.field(QuicConnectionImpl.class, "connectionSecrets");
    private static final Field CLIENT_TLS_ENGINE =
            KwikMembers.field(tech.kwik.core.impl.QuicClientConnectionImpl.class, "tlsEngine");
    private static final Field TLS_CLIENT_ENGINE_STATUS =
            KwikMembers.field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "status");
    private static final Field TLS_CLIENT_ENGINE_STATUS_HANDLER =
            KwikMembers.field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "statusHandler");
    private static final Field TLS_CLIENT_ENGINE_CLIENT_HELLO =
            KwikMembers.field(tech.kwik.agent15.engine.impl.TlsClientEngineImpl.class, "clientHello");

    private KwikHandshake() {
    }

    /** RFC 9001 4.1.2: the client's handshake is confirmed once HANDSHAKE_DONE arrived. */
    static boolean handshakeConfirmed(QuicConnectionImpl connection) {
        return get(HANDSHAKE_STATE, connection) == tech.kwik.core.impl.HandshakeState.Confirmed;
    }

    /** The key this endpoint seals 1-RTT packets with now (for {@link ProbeResealer}, W20); sender thread. */
    static tech.kwik.core.crypto.Aead ownApplicationAead(QuicConnectionImpl connection) {
        try {
            return ((tech.kwik.core.crypto.ConnectionSecrets) get(CONNECTION_SECRETS, connection))
                    .getOwnAead(tech.kwik.core.common.EncryptionLevel.App);
        } catch (tech.kwik.core.crypto.MissingKeysException e) {
            throw new IllegalStateException("no 1-RTT keys yet", e);
        }
    }

    /**
     * Client side: whether the TLS engine has sent its ClientHello and waits for the ServerHello, or is further on
     * (see {@link ClientPathSocket#holdReceivedUntil}, W6: docs/kwik-workarounds.md#w6). agent15's status field is not volatile; this reads it anew
     * on each call, and the receiver thread that reads it here is the one that then hands the engine the ServerHello.
     */
    static boolean clientHelloSent(tech.kwik.core.impl.QuicClientConnectionImpl connection) {
        Object engine = get(CLIENT_TLS_ENGINE, connection);
        if (!TLS_CLIENT_ENGINE_STATUS.getDeclaringClass().isInstance(engine)) {
            return true; // another engine: nothing known to wait for
        }
        Object status = get(TLS_CLIENT_ENGINE_STATUS, engine);
        return status != null && !"Start".equals(((Enum<?>) status).name());
    }

    /**
     * Client side: makes the connection's TLS engine report its traffic secrets to {@code keyLog} (W31,
     * docs/kwik-workarounds.md#w31). agent15's client
     * engine is built inside Kwik's connection with the connection as its status handler (a final field, with no
     * seam to wrap it); this puts a {@link KeyLoggingHandler} in between, which reads the client random from the
     * engine's own ClientHello. Call before {@code connect()}. Logs once, and does nothing, for another engine.
     */
    static void logClientSecrets(tech.kwik.core.impl.QuicClientConnectionImpl connection, KeyLog keyLog) {
        Object engine = get(CLIENT_TLS_ENGINE, connection);
        if (!TLS_CLIENT_ENGINE_STATUS_HANDLER.getDeclaringClass().isInstance(engine)) {
            keyLog.failed(new IllegalStateException("unknown TLS engine " + engine.getClass().getName()));
            return;
        }
        tech.kwik.agent15.engine.TlsStatusEventHandler kwik =
                (tech.kwik.agent15.engine.TlsStatusEventHandler) get(TLS_CLIENT_ENGINE_STATUS_HANDLER, engine);
        if (kwik instanceof KeyLoggingHandler) {
            return;
        }
        KeyLoggingHandler handler = new KeyLoggingHandler(kwik, keyLog,
                () -> (tech.kwik.agent15.handshake.ClientHello) get(TLS_CLIENT_ENGINE_CLIENT_HELLO, engine));
        handler.secretsOf((tech.kwik.agent15.engine.TrafficSecrets) engine);
        set(TLS_CLIENT_ENGINE_STATUS_HANDLER, engine, handler); // a final field of a plain class: allowed once accessible
    }

    /**
     * The server's transport parameters that matter to migration, as its client saw them; null before the
     * handshake gave them, and on the server side (Kwik 0.10.9 keeps a client's parameters to itself).
     */
    static org.quicmigration.core.trace.PeerParameters peerParameters(QuicConnectionImpl connection) {
        tech.kwik.core.impl.TransportParameters parameters =
                connection instanceof tech.kwik.core.impl.QuicClientConnectionImpl client ? client.getPeerTransportParameters() : null;
        if (parameters == null) {
            return null;
        }
        org.quicmigration.core.trace.PreferredAddress preferred;
        try {
            preferred = PeerPreferredAddress.of(parameters);
        } catch (org.quicmigration.core.TransportErrorException e) {
            preferred = null;
        }
        return new org.quicmigration.core.trace.PeerParameters(parameters.getDisableMigration(),
                parameters.getActiveConnectionIdLimit(), parameters.getMaxIdleTimeout(), parameters.getMaxAckDelay(),
                preferred == null ? null : preferred.ipv4(), preferred == null ? null : preferred.ipv6(),
                preferred == null ? null : preferred.connectionId(), preferred == null ? null : preferred.resetToken());
    }

    /** The destination connection ID of the client's first Initial packet (RFC 9000 7.3). */
    static org.quicmigration.core.ConnectionId originalDestinationId(QuicConnectionImpl connection) {
        byte[] id = connection instanceof tech.kwik.core.server.impl.ServerConnectionImpl server
                ? server.getOriginalDestinationConnectionId()
                : ((tech.kwik.core.cid.ConnectionIdManager) invoke(KwikConnectionIds.CLIENT_CID_MANAGER, connection))
                        .getOriginalDestinationConnectionId();
        return org.quicmigration.core.ConnectionId.of(id);
    }
}
