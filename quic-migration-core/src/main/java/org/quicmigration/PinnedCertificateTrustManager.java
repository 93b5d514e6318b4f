package org.quicmigration;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.X509TrustManager;

/** Trusts exactly one certificate: the server's leaf certificate must be byte-for-byte the pinned one. */
final class PinnedCertificateTrustManager implements X509TrustManager {

    private final X509Certificate pinned;

    PinnedCertificateTrustManager(X509Certificate pinned) {
        this.pinned = pinned;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("server sent no certificate");
        }
        if (!chain[0].equals(pinned)) {
            throw new CertificateException("server certificate " + chain[0].getSubjectX500Principal().getName()
                    + " is not the pinned certificate " + pinned.getSubjectX500Principal().getName());
        }
        chain[0].checkValidity();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client does not check client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
