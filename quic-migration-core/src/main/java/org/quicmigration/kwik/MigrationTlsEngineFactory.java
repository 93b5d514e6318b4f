package org.quicmigration.kwik;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.security.KeyStore;
import java.security.cert.CertificateException;

import tech.kwik.agent15.engine.ServerMessageSender;
import tech.kwik.agent15.engine.TlsServerEngine;
import tech.kwik.agent15.engine.TlsServerEngineFactory;
import tech.kwik.agent15.engine.TlsStatusEventHandler;
import tech.kwik.core.tls.QuicTransportParametersExtension;

/**
 * Internal: makes Kwik's server advertise what we choose for disable_active_migration. Kwik hard-codes the
 * parameter to true and then hands the (live, lazily serialised) transport parameters extension to the TLS
 * engine's {@code addServerExtensions}; the engine this factory makes intercepts that call and sets the value
 * before the EncryptedExtensions message is built. Verified on the wire against Kwik and ngtcp2 clients.
 */
final class MigrationTlsEngineFactory extends TlsServerEngineFactory {

    private final boolean disableActiveMigration;

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, String ecCurve,
                              boolean disableActiveMigration) throws CertificateException {
        super(keyStore, alias, password, ecCurve);
        this.disableActiveMigration = disableActiveMigration;
    }

    MigrationTlsEngineFactory(KeyStore keyStore, String alias, char[] password, boolean disableActiveMigration)
            throws CertificateException {
        super(keyStore, alias, password);
        this.disableActiveMigration = disableActiveMigration;
    }

    @Override
    public TlsServerEngine createServerEngine(ServerMessageSender sender, TlsStatusEventHandler handler) {
        TlsServerEngine engine = super.createServerEngine(sender, handler);
        InvocationHandler intercept = (proxy, method, arguments) -> {
            if (method.getName().equals("addServerExtensions")
                    && arguments[0] instanceof QuicTransportParametersExtension parameters) {
                // RFC 9000 18.2: disable_active_migration is a zero-length flag; absent means migration is allowed.
                parameters.getTransportParameters().setDisableMigration(disableActiveMigration);
            }
            try {
                return method.invoke(engine, arguments);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (TlsServerEngine) Proxy.newProxyInstance(TlsServerEngine.class.getClassLoader(),
                new Class<?>[]{TlsServerEngine.class}, intercept);
    }
}
