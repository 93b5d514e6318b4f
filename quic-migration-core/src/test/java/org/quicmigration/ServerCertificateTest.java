package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerCertificateTest {

    @TempDir
    Path directory;

    @Test
    void selfSignedCertificateNamesTheHostAndIsValidNow() throws Exception {
        ServerCertificate certificate = ServerCertificate.selfSigned("quic.example");

        X509Certificate leaf = certificate.certificate();
        leaf.checkValidity();
        leaf.verify(leaf.getPublicKey());
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=quic.example");
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "quic.example"));
        assertThat(certificate.privateKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void selfSignedCertificateForAnIpLiteralUsesAnIpAlternativeName() throws Exception {
        X509Certificate leaf = ServerCertificate.selfSigned("127.0.0.2").certificate();

        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.2"));
    }

    @Test
    void pemFilesLoadBackToTheSameCertificateAndKey() throws Exception {
        ServerCertificate original = ServerCertificate.selfSigned("localhost");
        Path certificateFile = Files.writeString(directory.resolve("cert.pem"), original.certificatePem());
        Path keyFile = Files.writeString(directory.resolve("key.pem"), original.privateKeyPem(), StandardCharsets.US_ASCII);

        ServerCertificate loaded = ServerCertificate.fromPem(certificateFile, keyFile);

        assertThat(loaded.certificate()).isEqualTo(original.certificate());
        assertThat(((java.security.interfaces.ECPrivateKey) loaded.privateKey()).getS())
                .isEqualTo(((java.security.interfaces.ECPrivateKey) original.privateKey()).getS());
    }

    @Test
    void pkcs12LoadsBackToTheSameCertificateAndKey() throws Exception {
        ServerCertificate original = ServerCertificate.selfSigned("localhost");
        char[] password = "secret".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", original.privateKey(), password, new X509Certificate[]{original.certificate()});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        store.store(bytes, password);

        ServerCertificate loaded = ServerCertificate.fromPkcs12(new ByteArrayInputStream(bytes.toByteArray()), password);

        assertThat(loaded.certificate()).isEqualTo(original.certificate());
        assertThat(loaded.privateKey().getEncoded()).isEqualTo(original.privateKey().getEncoded());
    }

    @Test
    void wrongPkcs12PasswordGivesAnIoExceptionNamingTheSource() throws Exception {
        ServerCertificate original = ServerCertificate.selfSigned("localhost");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", original.privateKey(), "right".toCharArray(),
                new X509Certificate[]{original.certificate()});
        Path file = directory.resolve("server.p12");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, "right".toCharArray());
        }

        assertThatThrownBy(() -> ServerCertificate.fromPkcs12(file, "wrong".toCharArray()))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void pemFileWithoutAKeyIsRejected() throws Exception {
        ServerCertificate original = ServerCertificate.selfSigned("localhost");
        Path certificateFile = Files.writeString(directory.resolve("cert.pem"), original.certificatePem());

        assertThatThrownBy(() -> ServerCertificate.fromPem(certificateFile, certificateFile))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("private key");
    }

    @Test
    void serverStartedFromLoadedPemServesAClientThatPinsIt() throws Exception {
        ServerCertificate original = ServerCertificate.selfSigned("localhost");
        Path certificateFile = Files.writeString(directory.resolve("cert.pem"), original.certificatePem());
        Path keyFile = Files.writeString(directory.resolve("key.pem"),
                ServerCertificate.pem("PRIVATE KEY", original.privateKey().getEncoded()));
        ServerCertificate loaded = ServerCertificate.fromPem(certificateFile, keyFile);

        try (MigrationServer server = Echo.serverBuilder().certificate(loaded).start();
             MigratingConnection connection = Echo.client(server).pinnedCertificate(original.certificate()).build().connect()) {
            byte[] data = Echo.randomBytes(10_000, 3);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
        }
    }
}
