package org.quicmigration.kwik;

import java.time.Instant;
import java.util.List;
import java.util.function.Function;

import tech.kwik.core.frame.DataBlockedFrame;
import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.PathChallengeFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.StreamDataBlockedFrame;
import tech.kwik.core.log.Logger;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.QuicPacket;

/**
 * Internal: Kwik's logger hook, used to see decrypted frames. Kwik calls {@link #received} on its receiver
 * thread for every packet, after decryption and before processing; this must stay cheap and must never throw.
 * Everything else is forwarded to a delegate logger (a no-op unless Kwik debugging is on).
 */
final class FrameObserver extends NullLogger {

    private static final System.Logger LOG = System.getLogger(FrameObserver.class.getName());

    /**
     * The RTT estimator of the server connection in its handshake whose packets this thread processes, or null: such a
     * connection is not known by its destination ID yet, but W3 applies to it as well (see {@link
     * #serverHandshakeOnThisThread}).
     */
    private static final ThreadLocal<Object> HANDSHAKE_RTT = new ThreadLocal<>();

    /**
     * Test hook: before each packet of a server connection in its handshake, its RTT estimate is set to 0 ms, as the
     * client's Initial ACK leaves it about once in 25 handshakes on loopback (see {@link #serverHandshakeOnThisThread}).
     */
    static volatile boolean zeroHandshakeRttForTests;

    private final Logger delegate;
    private final Function<byte[], KwikConnection> connectionForDestination;
    private final java.util.function.Supplier<KwikConnection> tracedClient;

    /**
     * @param connectionForDestination finds the connection by the packet's destination CID (server side), or
     *                                 ignores the CID (client side); returns null if unknown
     */
    FrameObserver(Logger delegate, Function<byte[], KwikConnection> connectionForDestination) {
        this(delegate, connectionForDestination, null);
    }

    /**
     * @param tracedClient the client connection whose sent packets may be traced; null on the server, where no
     *                     per-packet lookup is done on the send path
     */
    FrameObserver(Logger delegate, Function<byte[], KwikConnection> connectionForDestination,
                  java.util.function.Supplier<KwikConnection> tracedClient) {
        this.delegate = delegate;
        this.connectionForDestination = connectionForDestination;
        this.tracedClient = tracedClient;
    }

    /**
     * The connection whose packets this thread processes. Kwik processes each connection's packets on one thread
     * (the client's receiver loop, the server's per-connection thread), so the lookup by destination ID, linear in
     * the number of server connections, is done once per thread rather than once per packet.
     */
    private final ThreadLocal<KwikConnection> connectionOfThisThread = new ThreadLocal<>();

    @Override
    public void received(Instant time, int datagram, QuicPacket packet) {
        delegate.received(time, datagram, packet);
        try {
            KwikConnection connection = connectionOf(packet);
            if (connection == null) {
                return; // a server connection still in its handshake: nothing to observe yet
            }
            // Before Kwik processes this packet's ACK (and runs loss detection with the RTT of earlier samples), keep
            // the smoothed RTT above 0 ms: W3, docs/kwik-workarounds.md#w3.
            KwikCongestion.keepRttAboveZero(connection.rttEstimator());
            PacketObserver observer = connection.packetObserver();
            if (observer != null) {
                traceReceived(observer, connection, time, datagram, packet);
            }
            List<QuicFrame> frames = packet.getFrames();
            boolean ackEliciting = false;
            for (int i = 0, n = frames.size(); i < n; i++) {
                QuicFrame frame = frames.get(i);
                ackEliciting |= !(frame instanceof tech.kwik.core.frame.AckFrame || frame instanceof tech.kwik.core.frame.Padding);
                observe(connection, frame, frames, i, datagram);
            }
            if (tracedClient != null) {
                connection.stallGuard().packetReceived(ackEliciting);
            }
        } catch (RuntimeException e) {
            // Observation must never disturb Kwik's receiver thread.
        }
    }

    /**
     * The connection of {@code packet}, once known on this thread; null while a server connection is in its
     * handshake, whose RTT is then kept above 0 ms through the estimator its TLS engine handed over (W3).
     */
    private KwikConnection connectionOf(QuicPacket packet) {
        KwikConnection connection = connectionOfThisThread.get();
        if (connection != null) {
            return connection;
        }
        connection = tracedClient != null ? tracedClient.get()
                : connectionForDestination.apply(packet.getDestinationConnectionId());
        if (connection != null) {
            connectionOfThisThread.set(connection);
            HANDSHAKE_RTT.remove();
            return connection;
        }
        Object handshaking = HANDSHAKE_RTT.get();
        if (handshaking != null) {
            if (zeroHandshakeRttForTests) {
                KwikCongestion.zeroRtt(handshaking);
            }
            KwikCongestion.keepRttAboveZero(handshaking); // W3 during a server's handshake
        }
        return null;
    }

    /** What the binding does with {@code frame}, number {@code i} of its packet, before Kwik processes it. */
    private void observe(KwikConnection connection, QuicFrame frame, List<QuicFrame> frames, int i, int datagram) {
        if (frame instanceof tech.kwik.core.frame.AckFrame ack) {
            connection.declaredLosses().acked(ack); // W33, docs/kwik-workarounds.md#w33: before Kwik reads it
        } else if (frame instanceof tech.kwik.core.frame.ConnectionCloseFrame close) {
            connection.peerClosed(close); // W29, docs/kwik-workarounds.md#w29
        } else if (frame instanceof DataBlockedFrame blocked) {
            connection.stallGuard().peerDataBlocked(blocked); // W2, docs/kwik-workarounds.md#w2
        } else if (frame instanceof StreamDataBlockedFrame blocked) {
            connection.stallGuard().peerStreamDataBlocked(blocked);
        } else if (frame instanceof PathResponseFrame response) {
            ClientMigrationDriver driver = connection.migrationDriver();
            if (driver != null) {
                driver.onPathResponse(response);
            }
        } else if (frame instanceof NewConnectionIdFrame newId && tracedClient != null) {
            connection.newConnectionIdObserved(newId);
        } else if (frame instanceof PathChallengeFrame challenge && tracedClient != null) {
            // RFC 9000 8.2.2: answer at once. Kwik's own answer waits for congestion control, which after a move away
            // from a dead path counts the bytes lost there as in flight; a probe does not wait (W19,
            // docs/kwik-workarounds.md#w19). The server side answers in its path driver, on the path the challenge
            // came from.
            frames.set(i, new tech.kwik.core.frame.Padding(1)); // Kwik rejects a packet left with no frames
            answer(connection, challenge, datagram);
        }
    }

    private static void answer(KwikConnection connection, PathChallengeFrame challenge, int datagram) {
        RoutedProbeFrame response = RoutedProbeFrame.sized(RoutedProbeFrame.PATH_RESPONSE,
                challenge.getData(), connection.kwik().getDestinationConnectionId().length, Long.MAX_VALUE, null);
        // 8.2.2: "A PATH_RESPONSE frame MUST be sent on the network path where the PATH_CHALLENGE frame was
        // received." The socket routes by destination ID, so the answer takes the ID of the path the challenge came
        // on: a path we are probing before use (its own ID, 9.5), or a path we left whose socket still receives,
        // which the server challenges after our move (9.3.3); an ID used on one local address only, as 9.5 requires.
        ClientMigrationDriver driver = connection.migrationDriver();
        ClientPathSocket socket = connection.clientSocket();
        byte[] pathId = null;
        if (driver != null && socket != null) {
            java.net.InetSocketAddress arrivedOn = socket.receivedPath(datagram).local();
            pathId = driver.probingPathId(arrivedOn);
            if (pathId == null) {
                pathId = socket.leftPathId(arrivedOn);
            }
        }
        KwikRecovery.sendProbe(connection.kwik(), pathId == null ? response : response.resealedWith(pathId));
    }

    /**
     * Reports a received packet with its path: on a client, the path its datagram arrived on; on a server, the
     * client's first address for long-header packets, while 1-RTT packets of a connection that follows migration
     * are reported by {@link PathAttributionFilter}, which knows their true source.
     */
    private void traceReceived(PacketObserver observer, KwikConnection connection, Instant time, int datagram,
                               QuicPacket packet) {
        if (tracedClient != null) {
            ClientPathSocket socket = connection.clientSocket();
            if (socket != null) {
                org.quicmigration.core.Tuple path = socket.receivedPath(datagram);
                observer.packet(PacketDescriber.describe(packet, false, time, path.local(), path.remote()));
            }
        } else if (connection.serverDriver() == null || !(packet instanceof tech.kwik.core.packet.ShortHeaderPacket)) {
            observer.packet(PacketDescriber.describe(packet, false, time, connection.localAddress(),
                    connection.peerAddress()));
        }
    }

    @Override
    public void cc(String message) {
        delegate.cc(message);
    }

    @Override
    public void recovery(String message) {
        delegate.recovery(message);
    }

    @Override
    public void recovery(String message, Instant time) {
        delegate.recovery(message, time);
    }

    @Override
    public void sent(Instant time, QuicPacket packet) {
        delegate.sent(time, packet);
        traceSent(time, packet);
    }

    @Override
    public void sent(Instant time, List<QuicPacket> packets) {
        delegate.sent(time, packets);
        for (int i = 0, n = packets.size(); i < n; i++) {
            traceSent(time, packets.get(i));
        }
    }

    /** Whether the packet carries a path frame of ours and nothing else but PADDING and ACK. */
    private static boolean onlyPathFrames(QuicPacket packet) {
        List<QuicFrame> frames = packet.getFrames();
        boolean path = false;
        for (int i = 0, n = frames.size(); i < n; i++) {
            QuicFrame frame = frames.get(i);
            if (frame instanceof RoutedProbeFrame) {
                path = true;
            } else if (!(frame instanceof tech.kwik.core.frame.Padding || frame instanceof tech.kwik.core.frame.AckFrame)) {
                return false;
            }
        }
        return path;
    }

    private void traceSent(Instant time, QuicPacket packet) {
        if (onlyPathFrames(packet)) {
            try {
                // The client detaches all its path frames; the server only those its driver marked (see there).
                KwikConnection client = tracedClient != null ? tracedClient.get() : null;
                tech.kwik.core.impl.QuicConnectionImpl connection = tracedClient != null
                        ? (client == null ? null : client.kwik())
                        : ServerPathSender.takeProbeToDetach();
                if (connection != null) {
                    KwikRecovery.detachProbeFromRecovery(connection, packet);
                }
            } catch (RuntimeException e) {
                // never disturb Kwik's sender; the packet stays in Kwik's recovery
            }
        }
        if (tracedClient == null) {
            try {
                ServerPathSender.traceSent(packet, time);
                ServerPathSocket.traceSent(packet, time);
            } catch (RuntimeException e) {
                // tracing must never disturb Kwik's sender
            }
            return;
        }
        KwikConnection connection = tracedClient.get();
        if (connection == null) {
            return;
        }
        PacketObserver observer = connection.packetObserver();
        ClientPathSocket socket = connection.clientSocket();
        if (socket != null) {
            packet = socket.sentInstead(packet); // a validate-first challenge leaves sealed again (ProbeResealer)
        }
        if (observer != null && socket != null) {
            try {
                org.quicmigration.core.Tuple path = socket.lastSentPath();
                observer.packet(PacketDescriber.describe(packet, true, time, path.local(), path.remote()));
            } catch (RuntimeException e) {
                // tracing must never disturb Kwik's sender
            }
        }
        WireTrace trace = connection.wireTrace();
        if (trace == null) {
            return;
        }
        try {
            List<String> frames = new java.util.ArrayList<>();
            for (QuicFrame frame : packet.getFrames()) {
                frames.add(frame instanceof RoutedProbeFrame probe ? probe.kwikName() : frame.getClass().getSimpleName());
                if (frame instanceof tech.kwik.core.frame.RetireConnectionIdFrame retire) {
                    trace.retireSent(retire.getSequenceNr());
                }
            }
            Long number = packet.getPacketNumber();
            trace.packetSent(org.quicmigration.core.ConnectionId.of(packet.getDestinationConnectionId()),
                    number == null ? -1 : number, packet.getSize(), frames);
        } catch (RuntimeException e) {
            // tracing must never disturb Kwik's sender
        }
    }

    @Override
    public void info(String message) {
        delegate.info(message);
    }

    @Override
    public void warn(String message) {
        delegate.warn(message);
    }

    /**
     * Kwik's errors with an exception (a connection aborted on an internal error, say) are always reported as
     * warnings, debugging on or not; its messages alone (a sender loop that woke for nothing, say) only in debug.
     */
    @Override
    public void error(String message) {
        delegate.error(message);
        LOG.log(System.Logger.Level.DEBUG, () -> "Kwik: " + message);
    }

    @Override
    public void error(String message, Throwable error) {
        delegate.error(message, error);
        LOG.log(System.Logger.Level.WARNING, "Kwik: " + message, error);
    }

    /**
     * Called on the thread that processes a server connection's packets, when its ClientHello arrives: from then on,
     * until the connection is known by its destination ID (after the handshake), {@link #received} keeps its smoothed
     * RTT above 0 ms too (W3). The client's Initial ACK can give a 0 ms first sample on loopback, and a Handshake
     * packet in the same datagram starts with an ACK: Kwik's loss detection then ran with a threshold of 0, its
     * assertion aborted the connection and dropped it from the server's routing, and the client's Finished was never
     * processed (about 1 in 25 handshakes of ngtcp2's client in tests).
     */
    static void serverHandshakeOnThisThread(tech.kwik.core.server.impl.ServerConnectionImpl server) {
        HANDSHAKE_RTT.set(KwikCongestion.rttEstimator(server));
    }

    @Override
    public void debug(String message) {
        delegate.debug(message);
    }
}
