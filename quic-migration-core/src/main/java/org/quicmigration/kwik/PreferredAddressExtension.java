package org.quicmigration.kwik;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import tech.kwik.core.impl.Role;
import tech.kwik.core.tls.QuicTransportParametersExtension;

/**
 * Internal: the server's transport parameters as Kwik encodes them, plus preferred_address (RFC 9000 18.2, id
 * 0x0d), which Kwik's server never encodes (W25, docs/kwik-workarounds.md#w25). The parameter is appended to Kwik's encoding and the extension's length
 * field fixed; Kwik's parameters object is shared, so settings made on it before the TLS engine asks for the bytes
 * (disable_active_migration) still count.
 */
final class PreferredAddressExtension extends QuicTransportParametersExtension {

    private static final int PREFERRED_ADDRESS_ID = 0x0d;

    private final byte[] preferredAddress;
    private byte[] encoded;

    /**
     * @param kwiks            the extension Kwik made, whose parameters this one encodes
     * @param preferredAddress the parameter's value, from {@link #value}
     */
    PreferredAddressExtension(QuicTransportParametersExtension kwiks, byte[] preferredAddress) {
        super(KwikServerSetup.extensionVersion(kwiks), kwiks.getTransportParameters(), Role.Server);
        this.preferredAddress = preferredAddress.clone();
    }

    @Override
    public byte[] getBytes() {
        if (encoded == null) {
            byte[] kwiks = super.getBytes(); // extension type (2 bytes), length (2 bytes), parameters
            ByteBuffer out = ByteBuffer.allocate(kwiks.length + 2 + preferredAddress.length);
            out.put(kwiks);
            // Both the id and the length fit a one-byte variable-length integer (RFC 9000 16): the value is at most
            // 4 + 2 + 16 + 2 + 1 + 20 + 16 = 61 bytes.
            out.put((byte) PREFERRED_ADDRESS_ID);
            out.put((byte) preferredAddress.length);
            out.put(preferredAddress);
            out.putShort(2, (short) (out.capacity() - 4));
            encoded = out.array();
        }
        return encoded;
    }

    /**
     * The preferred_address value (RFC 9000 18.2): IPv4 address and port, IPv6 address and port (all zero for a
     * family not offered), the connection ID with its length, and its stateless reset token.
     */
    static byte[] value(InetSocketAddress ipv4, InetSocketAddress ipv6, byte[] connectionId, byte[] resetToken) {
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("a preferred address needs an IPv4 or an IPv6 address");
        }
        if (connectionId.length == 0 || connectionId.length > 20 || resetToken.length != 16) {
            throw new IllegalArgumentException("preferred_address needs a 1-20 byte connection ID and a 16-byte token");
        }
        ByteBuffer value = ByteBuffer.allocate(4 + 2 + 16 + 2 + 1 + connectionId.length + 16);
        if (ipv4 != null) {
            if (!(ipv4.getAddress() instanceof Inet4Address)) {
                throw new IllegalArgumentException("not an IPv4 address: " + ipv4);
            }
            value.put(ipv4.getAddress().getAddress()).putShort((short) ipv4.getPort());
        } else {
            value.put(new byte[6]);
        }
        if (ipv6 != null) {
            if (!(ipv6.getAddress() instanceof Inet6Address)) {
                throw new IllegalArgumentException("not an IPv6 address: " + ipv6);
            }
            value.put(ipv6.getAddress().getAddress()).putShort((short) ipv6.getPort());
        } else {
            value.put(new byte[18]);
        }
        value.put((byte) connectionId.length).put(connectionId).put(resetToken);
        return value.array();
    }
}
