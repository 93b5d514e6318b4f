package org.quicmigration.examples;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.KeyStore;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManagerFactory;

import org.quicmigration.ServerCertificate;

/**
 * The TCP + TLS 1.3 rival of the handover measurements: a server on loopback that reads an 8-byte offset, then sends
 * {@link Handovers}' download from there to its end, on a thread per client.
 */
final class TlsServer implements AutoCloseable {
    private final SSLServerSocket socket;

    TlsServer(ServerCertificate certificate) throws Exception {
        char[] password = "relay".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", certificate.privateKey(), password,
                certificate.chain().toArray(new java.security.cert.X509Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(factory.getKeyManagers(), null, null);
        socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress());
        socket.setEnabledProtocols(new String[]{"TLSv1.3"});
        Thread acceptor = new Thread(this::accept, "tls-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread sender = new Thread(() -> serve(client), "tls-server-send");
                sender.setDaemon(true);
                sender.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void serve(Socket client) {
        try (client) {
            client.setTcpNoDelay(true);
            long offset = new DataInputStream(client.getInputStream()).readLong();
            Handovers.sendFrom(offset, client.getOutputStream());
        } catch (IOException e) {
            // the client went away (its network changed)
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** A client context that trusts only {@code certificate}. */
    static SSLContext clientContext(java.security.cert.X509Certificate certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
