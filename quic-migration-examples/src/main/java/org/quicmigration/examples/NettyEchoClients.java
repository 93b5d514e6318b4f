package org.quicmigration.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamType;

/**
 * Many QUIC clients on two threads: Netty QUIC's (quiche inside), for {@link ServerScaleBenchmark}. A Kwik client
 * runs about three threads per connection, so thousands of them exhaust the machine's task limit before the server
 * does; these need none of their own. Each client has a UDP socket of its own, as a device behind a NAT would, and
 * trusts one pinned certificate. Loopback only.
 */
final class NettyEchoClients implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final QuicClientCodecBuilder codec;
    private final InetSocketAddress server;

    NettyEchoClients(X509Certificate trusted, String protocol, InetSocketAddress server) {
        QuicSslContext ssl = QuicSslContextBuilder.forClient()
                .trustManager(trusted)
                .endpointIdentificationAlgorithm(null) // the certificate is pinned; we connect by IP
                .applicationProtocols(protocol).build();
        this.codec = new QuicClientCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(10, TimeUnit.MINUTES)
                .initialMaxData(1 << 20)
                .initialMaxStreamDataBidirectionalLocal(1 << 20)
                .initialMaxStreamDataBidirectionalRemote(1 << 20)
                .initialMaxStreamsBidirectional(10)
                .activeConnectionIdLimit(4);
        this.server = server;
    }

    /** One client: a UDP socket of its own and a QUIC connection to the server. */
    final class Client implements AutoCloseable {
        private final Channel socket;
        private final QuicChannel connection;

        private Client(Channel socket, QuicChannel connection) {
            this.socket = socket;
            this.connection = connection;
        }

        /** Sends {@code data} on a new stream, with FIN, and completes with everything the server sent back. */
        CompletableFuture<byte[]> echo(byte[] data) {
            return exchange(data, Long.MAX_VALUE, () -> { });
        }

        /**
         * As {@link #echo}, running {@code then} once on the event loop when {@code after} bytes have come back, so
         * a test can change the network in the middle of a transfer.
         */
        CompletableFuture<byte[]> exchange(byte[] data, long after, Runnable then) {
            Collector collector = new Collector(after, then);
            connection.createStream(QuicStreamType.BIDIRECTIONAL, collector).addListener(created -> {
                if (created.isSuccess()) {
                    // Data and FIN in one frame: a separate shutdownOutput() may overtake the data (peers.md).
                    ((Channel) created.getNow()).writeAndFlush(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(data), true));
                } else {
                    collector.done.completeExceptionally(created.cause());
                }
            });
            return collector.done;
        }

        @Override
        public void close() {
            connection.close();
            socket.close();
        }
    }

    /** Opens a client from a new socket on loopback; waits at most {@code timeoutSeconds} for the handshake. */
    Client connect(long timeoutSeconds) throws Exception {
        Channel socket = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec.build())
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        try {
            QuicChannel connection = QuicChannel.newBootstrap(socket)
                    .handler(new ChannelInboundHandlerAdapter())
                    .streamHandler(new ChannelInboundHandlerAdapter())
                    .remoteAddress(server)
                    .connect().get(timeoutSeconds, TimeUnit.SECONDS);
            return new Client(socket, connection);
        } catch (Exception e) {
            socket.close();
            throw e;
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Collects one stream's bytes until its FIN. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final long after;
        private Runnable then;

        Collector(long after, Runnable then) {
            this.after = after;
            this.then = then;
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            ByteBuf data = (ByteBuf) message;
            try {
                data.readBytes(received, data.readableBytes());
                if (then != null && received.size() >= after) {
                    Runnable once = then;
                    then = null;
                    once.run();
                }
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            } finally {
                data.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
            if (event == ChannelInputShutdownReadComplete.INSTANCE) {
                done.complete(received.toByteArray());
                context.close();
            }
            super.userEventTriggered(context, event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            done.completeExceptionally(cause);
            context.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            done.completeExceptionally(new IOException("stream closed before its FIN"));
            context.fireChannelInactive();
        }
    }
}
