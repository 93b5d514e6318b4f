package org.quicmigration.examples;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicPathEvent;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;

import org.quicmigration.ServerCertificate;

/**
 * The download server of {@link DemoServer}'s protocol (the client sends the size as 8 bytes and FIN; the server
 * answers with the SHA-256 of {@code new Random(size)}'s first {@code size} bytes, then those bytes), on Netty QUIC
 * (quiche inside): the rival stack for {@link RebindingGoodput}. Configured like our server: 1 MiB stream window,
 * 4 MiB connection window, active migration allowed, and an active_connection_id_limit of 4 (quiche's default of
 * 2 drops a second rebinding, quiche PR 2743). One event-loop thread; loopback only.
 */
final class NettyDownloadServer implements AutoCloseable {

    private static final int BLOCK = 64 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;
    private final java.util.List<QuicPathEvent> pathEvents = new java.util.ArrayList<>(); // guarded by itself

    NettyDownloadServer(ServerCertificate certificate, String protocol) throws Exception {
        QuicSslContext ssl = QuicSslContextBuilder.forServer(certificate.privateKey(), null,
                certificate.chain().toArray(new java.security.cert.X509Certificate[0]))
                .applicationProtocols(protocol).build();
        ChannelHandler codec = new QuicServerCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(30, TimeUnit.SECONDS)
                .initialMaxData(4L << 20)
                .initialMaxStreamDataBidirectionalLocal(1L << 20)
                .initialMaxStreamDataBidirectionalRemote(1L << 20)
                .initialMaxStreamsBidirectional(100)
                .initialMaxStreamsUnidirectional(3)
                .activeMigration(true)
                .activeConnectionIdLimit(4)
                .handler(new ConnectionHandler())
                .streamHandler(new ChannelInitializer<QuicStreamChannel>() {
                    @Override
                    protected void initChannel(QuicStreamChannel stream) {
                        stream.pipeline().addLast(new Download());
                    }
                })
                .build();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        channel = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    }

    InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Every path event quiche reported so far (a new client address, its validation, the move to it), in order. */
    java.util.List<QuicPathEvent> pathEvents() {
        synchronized (pathEvents) {
            return java.util.List.copyOf(pathEvents);
        }
    }

    /**
     * The client address of a path event. Netty QUIC 4.2.18 reports the port with its two bytes swapped (a client
     * on port 41898, 0xa3aa, is reported on 43683, 0xaaa3), so this swaps them back.
     */
    static InetSocketAddress remote(QuicPathEvent event) {
        int port = Short.toUnsignedInt(Short.reverseBytes((short) event.remote().getPort()));
        return new InetSocketAddress(event.remote().getAddress(), port);
    }

    /**
     * Waits at most {@code timeout} for a path event that matches, among those after the first {@code skip};
     * returns whether one came.
     */
    boolean awaitPathEvent(int skip, java.util.function.Predicate<QuicPathEvent> matches, java.time.Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (pathEvents) {
            while (pathEvents.stream().skip(skip).noneMatch(matches)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(pathEvents, left);
            }
            return true;
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The connection-level handler: records path events; one instance serves every connection, so it is sharable. */
    @ChannelHandler.Sharable
    private final class ConnectionHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
            if (event instanceof QuicPathEvent path) {
                synchronized (pathEvents) {
                    pathEvents.add(path);
                    pathEvents.notifyAll();
                }
            }
            super.userEventTriggered(context, event);
        }
    }

    /** One stream: reads the 8-byte size, then writes digest and data as fast as the stream is writable. */
    private static final class Download extends ChannelInboundHandlerAdapter {
        private final ByteBuf request = Unpooled.buffer(8);
        private Random random;
        private long left = -1;

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            ByteBuf data = (ByteBuf) message;
            try {
                request.writeBytes(data, Math.min(data.readableBytes(), request.writableBytes()));
            } finally {
                data.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
            if (event == ChannelInputShutdownReadComplete.INSTANCE && left < 0 && request.readableBytes() == 8) {
                long size = Math.min(request.readLong(), DemoServer.MAX_DOWNLOAD);
                context.write(Unpooled.wrappedBuffer(sha256(size)));
                random = new Random(size);
                left = size;
                writeWhileWritable(context);
            }
            super.userEventTriggered(context, event);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext context) {
            if (left > 0) {
                writeWhileWritable(context);
            }
            context.fireChannelWritabilityChanged();
        }

        private void writeWhileWritable(ChannelHandlerContext context) {
            byte[] block = new byte[BLOCK];
            while (left > 0 && context.channel().isWritable()) {
                random.nextBytes(block);
                int n = (int) Math.min(BLOCK, left);
                left -= n;
                // The last block carries FIN; shutdownOutput() could overtake queued data (see ../shared/peers.md).
                context.write(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(block, 0, n), left == 0));
            }
            context.flush();
        }

        private static byte[] sha256(long size) throws Exception {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            Random random = new Random(size);
            byte[] block = new byte[BLOCK];
            for (long left = size; left > 0; left -= BLOCK) {
                random.nextBytes(block);
                digest.update(block, 0, (int) Math.min(BLOCK, left));
            }
            return digest.digest();
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            request.release();
            context.fireChannelInactive();
        }
    }
}
