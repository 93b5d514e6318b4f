package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.trace.PreferredAddress;

import tech.kwik.core.impl.Role;
import tech.kwik.core.impl.TransportParameters;
import tech.kwik.core.impl.Version;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.tls.QuicTransportParametersExtension;

/** The server's preferred_address as a Kwik client parses it (Kwik 0.10.9 accepts any connection ID length). */
class PeerPreferredAddressTest {

    @Test
    void aConnectionIdOfMoreThan20BytesIsATransportParameterError() throws Exception {
        TransportParameters parameters = parsedByKwik(value(new byte[21]));

        Throwable failure = catchThrowable(() -> PeerPreferredAddress.of(parameters));

        assertThat(failure).as("a 21-byte connection ID in preferred_address").isInstanceOf(TransportErrorException.class);
        assertThat(((TransportErrorException) failure).errorCode()).as("TRANSPORT_PARAMETER_ERROR").isEqualTo(0x08);
    }

    @Test
    void aZeroLengthConnectionIdIsATransportParameterError() throws Exception {
        TransportParameters parameters = parsedByKwik(value(new byte[0]));

        Throwable failure = catchThrowable(() -> PeerPreferredAddress.of(parameters));

        assertThat(failure).as("a zero-length connection ID in preferred_address").isInstanceOf(TransportErrorException.class);
        assertThat(((TransportErrorException) failure).errorCode()).as("TRANSPORT_PARAMETER_ERROR").isEqualTo(0x08);
    }

    @Test
    void aValidPreferredAddressIsReadAsSent() throws Exception {
        byte[] id = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] token = new byte[16];
        token[15] = 9;
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("127.0.0.3"), 4433);

        PreferredAddress preferred = PeerPreferredAddress.of(parsedByKwik(
                PreferredAddressExtension.value(v4, null, id, token)));

        assertThat(preferred.ipv4()).isEqualTo(v4);
        assertThat(preferred.ipv6()).isNull();
        assertThat(preferred.connectionId()).isEqualTo(ConnectionId.of(id));
        assertThat(preferred.resetToken()).isEqualTo(token);
    }

    /** A preferred_address value with 127.0.0.2:4433, no IPv6 address, {@code id} and a token of zeros. */
    static byte[] value(byte[] id) {
        return ByteBuffer.allocate(4 + 2 + 16 + 2 + 1 + id.length + 16).put(new byte[]{127, 0, 0, 2}).putShort((short) 4433)
                .put(new byte[18]).put((byte) id.length).put(id).put(new byte[16]).array();
    }

    /** The server's transport parameters with {@code preferredAddress}, serialised and parsed as Kwik's client does. */
    static TransportParameters parsedByKwik(byte[] preferredAddress) throws Exception {
        TransportParameters sent = new TransportParameters();
        sent.setOriginalDestinationConnectionId(new byte[8]);
        sent.setInitialSourceConnectionId(new byte[8]);
        QuicTransportParametersExtension server = new QuicTransportParametersExtension(Version.getDefault(), sent,
                Role.Server);
        byte[] bytes = new PreferredAddressExtension(server, preferredAddress).getBytes();
        return new QuicTransportParametersExtension(Version.getDefault())
                .parse(ByteBuffer.wrap(bytes), Role.Server, new NullLogger()).getTransportParameters();
    }
}
