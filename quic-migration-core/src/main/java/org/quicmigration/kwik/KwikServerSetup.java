package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;

/**
 * Internal: Kwik's server connector: how the binding builds, closes and extends it. Each member is looked up by
 * name where it is declared, when the class loads; {@link KwikInternals#verify()} reports any that is missing at
 * start-up.
 */
final class KwikServerSetup {

    private static final Method SERVER_CONNECTOR_CLOSE =
            KwikMembers.method(tech.kwik.core.server.impl.ServerConnectorImpl.class, "close", java.time.Duration.class);
    private static final Constructor<?> SERVER_CONNECTOR =
            KwikMembers.constructor(tech.kwik.core.server.impl.ServerConnectorImpl.class,
                    java.net.DatagramSocket.class,
            tech.kwik.agent15.engine.TlsServerEngineFactory.class, List.class, tech.kwik.core.server.ServerConnectionConfig.class,
            tech.kwik.core.log.Logger.class);
    private static final Field PACKET_FILTER_NEXT =
            KwikMembers.field(tech.kwik.core.packet.BasePacketFilter.class, "next");
    private static final Field PARAMETERS_EXTENSION_VERSION =
            KwikMembers.field(tech.kwik.core.tls.QuicTransportParametersExtension.class, "quicVersion");

    private KwikServerSetup() {
    }

    /**
     * W30 (docs/kwik-workarounds.md#w30): closes a Kwik server, waiting at most {@code timeout} for its connections to finish
     * closing. Kwik's public
     * {@code close()} waits up to 30 s, and a connection whose handshake the server rejected (for example for
     * an unknown ALPN) is never removed from Kwik's registry, so it always waited the full 30 s.
     */
    static void closeServer(tech.kwik.core.server.ServerConnector connector, java.time.Duration timeout) {
        invoke(SERVER_CONNECTOR_CLOSE, connector, timeout);
    }

    /**
     * Builds Kwik's server connector with our TLS engine factory (the only way to change the transport parameters
     * Kwik's server sends, W24: docs/kwik-workarounds.md#w24), through the private constructor the public builder uses.
     */
    static tech.kwik.core.server.ServerConnector newServerConnector(java.net.DatagramSocket socket,
            tech.kwik.agent15.engine.TlsServerEngineFactory tlsFactory, tech.kwik.core.server.ServerConnectionConfig config,
            tech.kwik.core.log.Logger logger) {
        try {
            return (tech.kwik.core.server.ServerConnector) SERVER_CONNECTOR.newInstance(socket, tlsFactory,
                    List.of(tech.kwik.core.QuicConnection.QuicVersion.V1), config, logger);
        } catch (InstantiationException | IllegalAccessException e) {
            throw new IllegalStateException("cannot create Kwik's server connector", e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("Kwik's server connector failed to start: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Puts {@code filter} into the server connection's packet processing chain (W17, docs/kwik-workarounds.md#w17), right
     * after Kwik drops duplicate packets and before it processes frames, so the filter sees every new authenticated 1-RTT packet with its
     * metadata (including the source address the socket layer presented).
     *
     * @param filter given Kwik's next filter, returns the filter to insert
     */
    static void insertAfterDuplicateFilter(tech.kwik.core.server.impl.ServerConnectionImpl connection,
            java.util.function.Function<tech.kwik.core.packet.PacketFilter, tech.kwik.core.packet.PacketFilter> filter) {
        Object current = connection.getPacketProcessorChain();
        while (current instanceof tech.kwik.core.packet.BasePacketFilter) {
            Object next = get(PACKET_FILTER_NEXT, current);
            if (current instanceof tech.kwik.core.packet.DropDuplicatePacketsFilter) {
                set(PACKET_FILTER_NEXT, current, filter.apply((tech.kwik.core.packet.PacketFilter) next));
                return;
            }
            current = next;
        }
        throw new IllegalStateException("Kwik's packet chain has no duplicate filter");
    }

    /** The QUIC version a transport parameters extension was made for (Kwik has no getter). */
    static tech.kwik.core.impl.Version extensionVersion(tech.kwik.core.tls.QuicTransportParametersExtension extension) {
        return (tech.kwik.core.impl.Version) get(PARAMETERS_EXTENSION_VERSION, extension);
    }
}
