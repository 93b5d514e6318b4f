package org.quicmigration;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A server's TLS identity: an X.509 certificate chain and the private key of its first certificate.
 *
 * <p>Make one in memory with {@link #selfSigned(String)} (for tests, demos and private deployments where
 * clients pin the certificate), or load one with {@link #fromPkcs12(Path, char[])} or
 * {@link #fromPem(Path, Path)}. Nothing is written to disk and no {@code keytool} is needed.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ServerCertificate {

    private static final Pattern IP_LITERAL = Pattern.compile("^[0-9.]+$|^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$");
    private static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(365);

    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;

    private ServerCertificate(List<X509Certificate> chain, PrivateKey privateKey) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least one certificate");
        }
        this.chain = List.copyOf(chain);
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
    }

    /**
     * Wraps a certificate chain (leaf first) and the leaf's private key.
     *
     * @param chain      the certificates, leaf first
     * @param privateKey the leaf certificate's private key
     * @return the certificate
     * @throws IllegalArgumentException if the chain is empty
     */
    public static ServerCertificate of(List<X509Certificate> chain, PrivateKey privateKey) {
        return new ServerCertificate(new ArrayList<>(Objects.requireNonNull(chain, "chain")), privateKey);
    }

    /**
     * Creates a fresh self-signed certificate (ECDSA P-256, valid for one year from now) for the given host
     * name, entirely in memory. The host name becomes the subject's common name and a DNS subject alternative
     * name; an IP literal such as {@code 127.0.0.1} becomes an IP address alternative name instead.
     *
     * @param hostName the name clients will verify, for example {@code "localhost"}
     * @return the new certificate and its key
     * @throws IllegalArgumentException if the host name is blank
     * @throws IllegalStateException if the JDK cannot generate the key (never on a standard JDK)
     */
    public static ServerCertificate selfSigned(String hostName) {
        Objects.requireNonNull(hostName, "hostName");
        if (hostName.isBlank()) {
            throw new IllegalArgumentException("host name must not be blank");
        }
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair keyPair = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=" + hostName.replaceAll("[,+=\"\\\\<>;]", "_"));
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    subject,
                    new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(SELF_SIGNED_VALIDITY)),
                    subject,
                    keyPair.getPublic());
            GeneralName alternativeName = IP_LITERAL.matcher(hostName).matches()
                    ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(hostName).getHostAddress())
                    : new GeneralName(GeneralName.dNSName, hostName);
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternativeName));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate())));
            return new ServerCertificate(List.of(certificate), keyPair.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot create a self-signed certificate for " + hostName, e);
        }
    }

    /**
     * Loads the first private-key entry of a PKCS#12 file.
     *
     * @param file     the PKCS#12 file
     * @param password its password
     * @return the certificate
     * @throws IOException if the file cannot be read, the password is wrong or it holds no private key
     */
    public static ServerCertificate fromPkcs12(Path file, char[] password) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return fromPkcs12(in, password, file.toString());
        }
    }

    /**
     * Loads the first private-key entry of a PKCS#12 stream; the stream is read but not closed.
     *
     * @param in       the PKCS#12 data
     * @param password its password
     * @return the certificate
     * @throws IOException if the stream cannot be read, the password is wrong or it holds no private key
     */
    public static ServerCertificate fromPkcs12(InputStream in, char[] password) throws IOException {
        return fromPkcs12(in, password, "PKCS#12 stream");
    }

    private static ServerCertificate fromPkcs12(InputStream in, char[] password, String source) throws IOException {
        try {
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            try {
                keyStore.load(in, password);
            } catch (IOException e) {
                throw new IOException("cannot load " + source + ": " + e.getMessage(), e);
            }
            for (Enumeration<String> aliases = keyStore.aliases(); aliases.hasMoreElements(); ) {
                String alias = aliases.nextElement();
                if (keyStore.isKeyEntry(alias)) {
                    PrivateKey key = (PrivateKey) keyStore.getKey(alias, password);
                    List<X509Certificate> chain = new ArrayList<>();
                    for (Certificate certificate : keyStore.getCertificateChain(alias)) {
                        chain.add((X509Certificate) certificate);
                    }
                    return new ServerCertificate(chain, key);
                }
            }
            throw new IOException(source + " holds no private key entry");
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot load " + source + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, or traditional RSA/EC).
     *
     * @param certificateChain the PEM file of certificates, leaf first
     * @param privateKey       the PEM file of the leaf's private key
     * @return the certificate
     * @throws IOException if a file cannot be read or holds no certificate or key
     */
    public static ServerCertificate fromPem(Path certificateChain, Path privateKey) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(certificateChain)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) certificate);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read certificates from " + certificateChain + ": " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException(certificateChain + " holds no certificate");
        }
        try (Reader reader = Files.newBufferedReader(privateKey, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PEMKeyPair pair) {
                return new ServerCertificate(chain, converter.getPrivateKey(pair.getPrivateKeyInfo()));
            }
            if (object instanceof PrivateKeyInfo info) {
                return new ServerCertificate(chain, converter.getPrivateKey(info));
            }
            throw new IOException(privateKey + " holds no unencrypted private key");
        }
    }

    /** {@return the leaf certificate}, the one clients verify and may pin. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** {@return the whole chain, leaf first; unmodifiable} */
    public List<X509Certificate> chain() {
        return Collections.unmodifiableList(chain);
    }

    /** {@return the private key of the leaf certificate} */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /**
     * The leaf certificate in PEM form, convenient for handing to a client that pins it.
     *
     * @return the PEM text, with its BEGIN and END lines
     */
    public String certificatePem() {
        try {
            return pem("CERTIFICATE", certificate().getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode certificate", e);
        }
    }

    /**
     * The private key in PKCS#8 PEM form ("PRIVATE KEY"). For EC keys the encoding carries the curve and the public
     * key too, as OpenSSL and GnuTLS tools expect (the JDK's own encoding omits the public key, which GnuTLS
     * rejects). Handle with care: it is the server's secret.
     *
     * @return the PEM text, with its BEGIN and END lines
     */
    public String privateKeyPem() {
        try {
            if (privateKey instanceof java.security.interfaces.ECPrivateKey ec) {
                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo publicKey =
                        org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(certificate().getPublicKey().getEncoded());
                org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                        ec.getParams().getOrder().bitLength(), ec.getS(), publicKey.getPublicKeyData(),
                        publicKey.getAlgorithm().getParameters());
                return pem("PRIVATE KEY", new PrivateKeyInfo(publicKey.getAlgorithm(), sec1).getEncoded());
            }
            return pem("PRIVATE KEY", privateKey.getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode the private key", e);
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + java.util.Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    @Override
    public String toString() {
        return "ServerCertificate[" + certificate().getSubjectX500Principal().getName() + "]";
    }
}
