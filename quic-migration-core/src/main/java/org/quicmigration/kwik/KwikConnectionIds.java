package org.quicmigration.kwik;

import static org.quicmigration.kwik.KwikMembers.get;
import static org.quicmigration.kwik.KwikMembers.set;
import static org.quicmigration.kwik.KwikMembers.invoke;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * Internal: Kwik's connection ID managers: which peer ID a connection sends with, and the IDs each side issues.
 * Each member is looked up by name where it is declared, when the class loads; {@link KwikInternals#verify()}
 * reports any that is missing at start-up.
 */
final class KwikConnectionIds {

    static final Method CLIENT_CID_MANAGER =
            KwikMembers.method(tech.kwik.core.impl.QuicClientConnectionImpl.class, "getConnectionIdManager");
    private static final Field CID_MANAGER_PEER_REGISTRY =
            KwikMembers.field(tech.kwik.core.cid.ConnectionIdManager.class, "peerCidRegistry");
    private static final Field CID_REGISTRY_CURRENT =
            KwikMembers.field(tech.kwik.core.cid.ConnectionIdRegistry.class, "currentConnectionId");
    private static final Field NEW_CID_FRAME_TOKEN =
            KwikMembers.field(tech.kwik.core.frame.NewConnectionIdFrame.class, "statelessResetToken");
    private static final Method SERVER_CID_MANAGER =
            KwikMembers.method(tech.kwik.core.server.impl.ServerConnectionImpl.class, "getConnectionIdManager");
    private static final Field CID_MANAGER_OWN_REGISTRY =
            KwikMembers.field(tech.kwik.core.cid.ConnectionIdManager.class, "cidRegistry");
    private static final Field CID_MANAGER_CONNECTION_REGISTRY =
            KwikMembers.field(tech.kwik.core.cid.ConnectionIdManager.class, "connectionRegistry");
    private static final Field CID_MANAGER_MAX_ISSUED =
            KwikMembers.field(tech.kwik.core.cid.ConnectionIdManager.class, "maxCids");
    private static final Method CID_INFO_SET_STATUS =
            KwikMembers.method(tech.kwik.core.cid.ConnectionIdInfo.class, "setStatus",
                    tech.kwik.core.cid.ConnectionIdStatus.class);

    private KwikConnectionIds() {
    }

    /**
     * W13 (docs/kwik-workarounds.md#w13): makes Kwik address the peer with {@code peerId} in every packet it builds from now
     * on. Kwik's own API only moves to the next sequence number; going back to an earlier ID (fallback to the old
     * path) needs this.
     */
    static void usePeerConnectionId(tech.kwik.core.impl.QuicClientConnectionImpl connection, byte[] peerId) {
        tech.kwik.core.cid.ConnectionIdRegistry registry = (tech.kwik.core.cid.ConnectionIdRegistry)
                get(CID_MANAGER_PEER_REGISTRY, invoke(CLIENT_CID_MANAGER, connection));
        byte[] previous = registry.getCurrent();
        set(CID_REGISTRY_CURRENT, registry, peerId.clone());
        // Kwik checks stateless reset tokens only for IDs whose status says they were used (RFC 9000 10.3.1: "MUST
        // NOT check for any stateless reset tokens associated with connection IDs it has not used"), and only its own
        // switch sets that status: without this, a reset for the ID a migration moved to went unnoticed (W34, docs/kwik-workarounds.md#w34).
        for (tech.kwik.core.cid.ConnectionIdInfo info : registry.getAll().values()) {
            if (java.util.Arrays.equals(info.getConnectionId(), peerId)) {
                invoke(CID_INFO_SET_STATUS, info, tech.kwik.core.cid.ConnectionIdStatus.IN_USE);
            } else if (java.util.Arrays.equals(info.getConnectionId(), previous)
                    && info.getConnectionIdStatus() == tech.kwik.core.cid.ConnectionIdStatus.IN_USE) {
                invoke(CID_INFO_SET_STATUS, info, tech.kwik.core.cid.ConnectionIdStatus.USED);
            }
        }
    }

    /**
     * W26 (docs/kwik-workarounds.md#w26): the connection ID in the server's preferred_address is not registered as sequence 1 (RFC 9000
     * 5.1.1: "the sequence number of the connection ID supplied in the preferred_address transport parameter is
     * 1"). Registers it, with its reset token, as if it had come in a NEW_CONNECTION_ID frame.
     */
    static void registerPreferredAddressId(tech.kwik.core.impl.QuicClientConnectionImpl connection, byte[] id,
                                           byte[] resetToken) {
        tech.kwik.core.frame.NewConnectionIdFrame frame =
                new tech.kwik.core.frame.NewConnectionIdFrame(tech.kwik.core.impl.Version.getDefault(), 1, 0, id);
        if (resetToken != null) {
            set(NEW_CID_FRAME_TOKEN, frame, resetToken.clone());
        }
        ((tech.kwik.core.cid.ConnectionIdManager) invoke(CLIENT_CID_MANAGER, connection)).process(frame);
    }

    /**
     * W27 (docs/kwik-workarounds.md#w27): Kwik parses the preferred_address port as {@code (byte << 8) | byte} with signed bytes. If the
     * low byte is below 0x80 the real port is the low 16 bits; otherwise sign extension erased the high byte and
     * the port cannot be known: returns -1.
     */
    static int decodePreferredPort(int parsed) {
        if ((parsed & 0x80) != 0 && (parsed & 0xFFFFFF00) == 0xFFFFFF00) {
            return -1;
        }
        return parsed & 0xFFFF;
    }

    /**
     * Server side: moves to the client's next unused connection ID (RFC 9000 9.5), without retiring the one used so
     * far: see {@link #serverRetirePeerId}.
     *
     * @return the IDs left and taken, or null if the client has no unused connection ID left (nothing changed)
     */
    static NextPeerId serverUseNextPeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        tech.kwik.core.cid.ConnectionIdManager ids =
                (tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection);
        byte[] old = ids.getCurrentPeerConnectionId();
        int oldSequence = -1;
        for (Map.Entry<Integer, tech.kwik.core.cid.ConnectionIdInfo> entry : ids.getAllPeerConnectionIds().entrySet()) {
            if (java.util.Arrays.equals(entry.getValue().getConnectionId(), old)) {
                oldSequence = entry.getKey();
            }
        }
        byte[] next = ids.nextPeerId();
        if (next == null) {
            return null;
        }
        return new NextPeerId(old, next, oldSequence);
    }

    /** The server's switch to the client's next ID: the ID left, its sequence number (-1 if unknown), the ID taken. */
    record NextPeerId(byte[] left, byte[] taken, int leftSequence) {
    }

    /**
     * Server side: the client connection ID {@link #serverUseNextPeerId} would move to (Kwik moves to the sequence
     * number after the current one), without moving; null if the client has not issued it or it was used already.
     */
    static byte[] serverPeekNextPeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        tech.kwik.core.cid.ConnectionIdManager ids =
                (tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection);
        byte[] current = ids.getCurrentPeerConnectionId();
        Map<Integer, tech.kwik.core.cid.ConnectionIdInfo> all = ids.getAllPeerConnectionIds();
        for (Map.Entry<Integer, tech.kwik.core.cid.ConnectionIdInfo> entry : all.entrySet()) {
            if (java.util.Arrays.equals(entry.getValue().getConnectionId(), current)) {
                tech.kwik.core.cid.ConnectionIdInfo next = all.get(entry.getKey() + 1);
                return next != null && next.getConnectionIdStatus() == tech.kwik.core.cid.ConnectionIdStatus.NEW
                        ? next.getConnectionId().clone() : null;
            }
        }
        return null;
    }

    /**
     * W25 (docs/kwik-workarounds.md#w25): takes the server's connection ID with sequence number 1 for the preferred_address
     * transport parameter, during the handshake (when the server's parameters are built). RFC 9000 5.1.1: "the sequence number of the connection
     * ID supplied in the preferred_address transport parameter is 1". Kwik knows nothing of preferred_address: its
     * next NEW_CONNECTION_ID would carry sequence 1 with another ID, and after the handshake it issues as many IDs
     * as the client's active_connection_id_limit allows, one too many with this one. So the ID is created in Kwik's
     * own registry (the next frames carry 2, 3, ...) and the number Kwik issues after the handshake is lowered by
     * one; {@link #restoreIssuedIdLimit} puts it back once those are out, so IDs the client retires are replaced
     * as before.
     *
     * @return the connection ID, not yet routable: see {@link #routePreferredAddressId}
     */
    static byte[] reservePreferredAddressId(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        tech.kwik.core.cid.ConnectionIdInfo id =
                ((tech.kwik.core.cid.SourceConnectionIdRegistry) get(CID_MANAGER_OWN_REGISTRY, ids)).generateNew();
        if (id.getSequenceNumber() != 1) {
            throw new IllegalStateException("Kwik issued connection ID sequence " + id.getSequenceNumber()
                    + " before the handshake; preferred_address needs sequence 1");
        }
        set(CID_MANAGER_MAX_ISSUED, ids, (int) get(CID_MANAGER_MAX_ISSUED, ids) - 1);
        return id.getConnectionId();
    }

    /**
     * Once the handshake is complete: makes Kwik's server deliver packets addressed to the preferred_address
     * connection ID to this connection. (Earlier in the handshake the connection may not be registered under its
     * first ID yet.) See MigrationTlsEngineFactory for when exactly.
     */
    static void routePreferredAddressId(tech.kwik.core.server.impl.ServerConnectionImpl connection, byte[] id) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        ((tech.kwik.core.server.ServerConnectionRegistry) get(CID_MANAGER_CONNECTION_REGISTRY, ids))
                .registerAdditionalConnectionId(connection.getInitialConnectionId(), id);
    }

    /** Undoes {@link #reservePreferredAddressId}'s lowering of the issue limit; call once, after the handshake. */
    static void restoreIssuedIdLimit(tech.kwik.core.server.impl.ServerConnectionImpl connection) {
        Object ids = invoke(SERVER_CID_MANAGER, connection);
        set(CID_MANAGER_MAX_ISSUED, ids, (int) get(CID_MANAGER_MAX_ISSUED, ids) + 1);
    }

    /**
     * Server side: retires a client connection ID no longer in use. Not right after switching away from it (W15,
     * docs/kwik-workarounds.md#w15): Kwik 0.10.9 may put the RETIRE_CONNECTION_ID frame into a packet it built with that very ID, and the client then
     * closes the connection with PROTOCOL_VIOLATION ("cannot retire current connection ID"; seen in 1 of 4 runs
     * of a hundred migrations).
     */
    static void serverRetirePeerId(tech.kwik.core.server.impl.ServerConnectionImpl connection, int sequence) {
        ((tech.kwik.core.cid.ConnectionIdManager) invoke(SERVER_CID_MANAGER, connection)).retireConnectionId(sequence);
    }
}
