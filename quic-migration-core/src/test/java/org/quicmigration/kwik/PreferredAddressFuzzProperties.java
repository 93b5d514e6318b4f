package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.quicmigration.Fuzz;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.trace.PreferredAddress;

import tech.kwik.core.impl.Role;
import tech.kwik.core.impl.TransportParameters;
import tech.kwik.core.impl.Version;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.tls.QuicTransportParametersExtension;

/**
 * The server's preferred_address (RFC 9000 18.2) from the bytes a server sends to what the client uses: values of
 * any length with Connection ID Length fields from 0 to 255 whatever follows, addresses all zero or not, then valid
 * values truncated, bit-flipped, overwritten, and noise, each in a transport parameters extension that Kwik's client
 * parses. What Kwik accepts, {@link PeerPreferredAddress} either turns into a valid value (an address, an ID of 1 to
 * 20 bytes, a 16-byte token) or refuses with TRANSPORT_PARAMETER_ERROR; and what {@link PreferredAddressExtension}
 * encodes comes back as it was.
 */
class PreferredAddressFuzzProperties {

    @Property(tries = 400)
    void whatKwikParsesIsUsedOnlyIfValid(@ForAll("values") byte[] value) {
        TransportParameters parsed;
        try {
            parsed = parsedByKwik(value);
        } catch (Exception e) {
            Statistics.label("Kwik's parse").collect("refused"); // the handshake fails in Kwik; nothing reaches us
            return;
        }
        Statistics.label("Kwik's parse").collect("accepted");

        Fuzz.Outcome<PreferredAddress> read = Fuzz.run(() -> PeerPreferredAddress.of(parsed))
                .failedOnlyWith(TransportErrorException.class);

        if (read.error() != null) {
            assertThat(((TransportErrorException) read.error()).errorCode()).as("error code")
                    .isEqualTo(TransportErrorException.TRANSPORT_PARAMETER_ERROR);
        } else if (read.value() != null) {
            PreferredAddress preferred = read.value();
            assertThat(preferred.ipv4() != null || preferred.ipv6() != null).as("an address in %s", preferred).isTrue();
            assertThat(preferred.connectionId().length()).as("connection ID length").isBetween(1, 20);
            assertThat(preferred.resetToken()).as("reset token").hasSize(16);
        }
    }

    @Property(tries = 200)
    void whatTheServerEncodesTheClientReadsBack(@ForAll("ipv4") InetAddress v4, @ForAll("ports") int v4Port,
                                                @ForAll("ipv6") InetAddress v6, @ForAll("ports") int v6Port,
                                                @ForAll("family") int family, @ForAll("ids") byte[] id,
                                                @ForAll("tokens") byte[] token) throws Exception {
        InetSocketAddress ipv4 = family != 2 ? new InetSocketAddress(v4, v4Port) : null;
        InetSocketAddress ipv6 = family != 1 ? new InetSocketAddress(v6, v6Port) : null;

        PreferredAddress read = PeerPreferredAddress.of(parsedByKwik(PreferredAddressExtension.value(ipv4, ipv6, id, token)));

        assertThat(read.ipv4()).as("IPv4 address").isEqualTo(ipv4 == null ? null : decodable(ipv4));
        assertThat(read.ipv6()).as("IPv6 address").isEqualTo(ipv6 == null ? null : decodable(ipv6));
        assertThat(read.connectionId()).isEqualTo(ConnectionId.of(id));
        assertThat(read.resetToken()).isEqualTo(token);
    }

    /** W27: Kwik 0.10.9 loses a port whose low byte is 0x80 or more; it is read as 0. */
    private static InetSocketAddress decodable(InetSocketAddress address) {
        return (address.getPort() & 0x80) != 0 ? new InetSocketAddress(address.getAddress(), 0) : address;
    }

    // ---- the parameter on the wire ----

    /** The server's transport parameters with preferred_address = {@code value} (any length), parsed by Kwik. */
    static TransportParameters parsedByKwik(byte[] value) throws Exception {
        TransportParameters sent = new TransportParameters();
        sent.setOriginalDestinationConnectionId(new byte[8]);
        sent.setInitialSourceConnectionId(new byte[8]);
        byte[] kwiks = new QuicTransportParametersExtension(Version.getDefault(), sent, Role.Server).getBytes();
        byte[] extension = Fuzz.concat(kwiks, new byte[]{0x0d}, Fuzz.varint(value.length, 2), value);
        ByteBuffer.wrap(extension).putShort(2, (short) (extension.length - 4));
        return new QuicTransportParametersExtension(Version.getDefault())
                .parse(ByteBuffer.wrap(extension), Role.Server, new NullLogger()).getTransportParameters();
    }

    // ---- generators ----

    @Provide
    Arbitrary<byte[]> values() {
        Arbitrary<byte[]> addresses = Arbitraries.frequencyOf(Tuple.of(3, Fuzz.noise(0).map(none -> new byte[24])),
                Tuple.of(7, Arbitraries.bytes().array(byte[].class).ofSize(24)));
        Arbitrary<byte[]> anyLength = Combinators.combine(addresses, Arbitraries.integers().between(0, 255),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(40), Arbitraries.bytes().array(byte[].class).ofMaxSize(20))
                .as((address, length, id, token) -> Fuzz.concat(address, new byte[]{(byte) (int) length}, id, token));
        Arbitrary<byte[]> exactLength = Combinators.combine(addresses, Arbitraries.integers().between(0, 40), tokens())
                .as((address, length, token) -> Fuzz.concat(address, new byte[]{(byte) (int) length}, new byte[length], token));
        Arbitrary<byte[]> valid = Combinators.combine(ipv4(), ports(), ids(), tokens()).as((v4, port, id, token) ->
                PreferredAddressExtension.value(new InetSocketAddress(v4, port), null, id, token));
        return Arbitraries.oneOf(anyLength, exactLength, Fuzz.damaged(valid));
    }

    @Provide
    Arbitrary<InetAddress> ipv4() {
        return Arbitraries.bytes().array(byte[].class).ofSize(4).filter(b -> b[0] != 0).map(PreferredAddressFuzzProperties::address);
    }

    @Provide
    Arbitrary<InetAddress> ipv6() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16).filter(b -> b[0] != 0).map(PreferredAddressFuzzProperties::address);
    }

    @Provide
    Arbitrary<Integer> ports() {
        return Arbitraries.integers().between(1, 65535);
    }

    /** 1: IPv4 only; 2: IPv6 only; 3: both. */
    @Provide
    Arbitrary<Integer> family() {
        return Arbitraries.of(1, 2, 3);
    }

    @Provide
    Arbitrary<byte[]> ids() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(20);
    }

    @Provide
    Arbitrary<byte[]> tokens() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16);
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
