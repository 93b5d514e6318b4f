package org.quicmigration.kwik;

import java.util.List;
import java.util.function.Supplier;

import tech.kwik.agent15.NewSessionTicket;
import tech.kwik.agent15.TlsProtocolException;
import tech.kwik.agent15.engine.TlsStatusEventHandler;
import tech.kwik.agent15.engine.TrafficSecrets;
import tech.kwik.agent15.extension.EarlyDataExtension;
import tech.kwik.agent15.extension.Extension;
import tech.kwik.agent15.handshake.ClientHello;

/**
 * Internal: sits between agent15's TLS engine and Kwik's connection (the engine's status handler) and writes each
 * traffic secret to a {@link KeyLog} when the engine announces it, before Kwik installs the keys; then forwards the
 * event unchanged. agent15 announces early secrets, handshake secrets and, with {@code handshakeFinished}, the
 * application secrets; the engine itself (a {@link TrafficSecrets}) holds their values. It announces early secrets
 * for every handshake, but they protect something only if the ClientHello offered early data (RFC 8446 4.2.10), so
 * only then is CLIENT_EARLY_TRAFFIC_SECRET written.
 *
 * <p>Kwik's own key log option ({@code QuicClientConnection.Builder.secrets}) is not used (W31,
 * docs/kwik-workarounds.md#w31): it deletes the file for
 * every new connection, so a second connection erased the first one's keys, and the server has no such option.
 *
 * <p>Called on Kwik's receiver thread (and, for early secrets, the connecting thread), once per event; never
 * throws from the logging part.
 */
final class KeyLoggingHandler implements TlsStatusEventHandler {

    private final TlsStatusEventHandler connection;
    private final KeyLog keyLog;
    private final Supplier<ClientHello> clientHello;
    private volatile TrafficSecrets secrets;

    /**
     * @param connection   the handler the engine would have called
     * @param clientHello  the ClientHello, once it was sent or received; null before
     */
    KeyLoggingHandler(TlsStatusEventHandler connection, KeyLog keyLog, Supplier<ClientHello> clientHello) {
        this.connection = connection;
        this.keyLog = keyLog;
        this.clientHello = clientHello;
    }

    /** The engine whose secrets to log; set before it receives its first message. */
    void secretsOf(TrafficSecrets engine) {
        this.secrets = engine;
    }

    @Override
    public void earlySecretsKnown() {
        log(true, false, false);
        connection.earlySecretsKnown();
    }

    @Override
    public void handshakeSecretsKnown() {
        log(false, true, false);
        connection.handshakeSecretsKnown();
    }

    @Override
    public void handshakeFinished() {
        log(false, false, true);
        connection.handshakeFinished();
    }

    @Override
    public void newSessionTicketReceived(NewSessionTicket ticket) {
        connection.newSessionTicketReceived(ticket);
    }

    @Override
    public void extensionsReceived(List<Extension> extensions) throws TlsProtocolException {
        connection.extensionsReceived(extensions);
    }

    @Override
    public boolean isEarlyDataAccepted() {
        return connection.isEarlyDataAccepted();
    }

    private void log(boolean early, boolean handshake, boolean application) {
        try {
            TrafficSecrets engine = secrets;
            if (engine == null) {
                keyLog.failed(new IllegalStateException("TLS engine not known to the key log"));
                return;
            }
            ClientHello hello = clientHello.get();
            byte[] random = hello == null ? null : hello.getClientRandom();
            if (early && hello != null
                    && hello.getExtensions().stream().anyMatch(extension -> extension instanceof EarlyDataExtension)) {
                keyLog.append(random, KeyLog.CLIENT_EARLY, engine.getClientEarlyTrafficSecret());
            }
            if (handshake) {
                keyLog.append(random, KeyLog.CLIENT_HANDSHAKE, engine.getClientHandshakeTrafficSecret(),
                        KeyLog.SERVER_HANDSHAKE, engine.getServerHandshakeTrafficSecret());
            }
            if (application) {
                keyLog.append(random, KeyLog.CLIENT_APPLICATION, engine.getClientApplicationTrafficSecret(),
                        KeyLog.SERVER_APPLICATION, engine.getServerApplicationTrafficSecret());
            }
        } catch (RuntimeException e) {
            keyLog.failed(e); // a key log must never cost the connection
        }
    }
}
