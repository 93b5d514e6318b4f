package org.quicmigration.core.cid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.StatelessResetToken;
import org.quicmigration.core.TransportErrorException;
import org.quicmigration.core.Tuple;

class PeerConnectionIdsTest {

    private static final Tuple WIFI = tuple("127.0.0.2", 5000);
    private static final Tuple CELLULAR = tuple("127.0.0.3", 6000);
    private final SplittableRandom random = new SplittableRandom(1);
    private final PeerConnectionIds ids = new PeerConnectionIds(4, cid("a0"), null);

    @Test
    void newConnectionIdBecomesASpare() throws Exception {
        ids.bind(WIFI, 0);

        ids.onNewConnectionId(1, cid("a1"), token(), 0);

        assertThat(ids.spareCount()).isEqualTo(1);
        assertThat(ids.activeCount()).isEqualTo(2);
    }

    @Test
    void theSameFrameTwiceIsNotAnError() throws Exception {
        StatelessResetToken token = token();
        ids.onNewConnectionId(1, cid("a1"), token, 0);

        PeerConnectionIds.Update update = ids.onNewConnectionId(1, cid("a1"), token, 0);

        assertThat(update.retire()).isEmpty();
        assertThat(ids.activeCount()).isEqualTo(2);
    }

    @Test
    void aSequenceNumberReusedForAnotherIdIsAProtocolViolation() throws Exception {
        ids.onNewConnectionId(1, cid("a1"), token(), 0);

        assertThatThrownBy(() -> ids.onNewConnectionId(1, cid("b1"), token(), 0))
                .isInstanceOf(TransportErrorException.class)
                .extracting(e -> ((TransportErrorException) e).errorCode())
                .isEqualTo(TransportErrorException.PROTOCOL_VIOLATION);
    }

    @Test
    void retirePriorToAboveTheSequenceIsAFrameEncodingError() {
        assertThatThrownBy(() -> ids.onNewConnectionId(1, cid("a1"), token(), 2))
                .isInstanceOf(TransportErrorException.class)
                .extracting(e -> ((TransportErrorException) e).errorCode())
                .isEqualTo(TransportErrorException.FRAME_ENCODING_ERROR);
    }

    @Test
    void anIncreasedRetirePriorToRetiresOlderIdsAndTellsWhichPathLostItsId() throws Exception {
        ids.bind(WIFI, 0);
        ids.onNewConnectionId(1, cid("a1"), token(), 0);

        PeerConnectionIds.Update update = ids.onNewConnectionId(2, cid("a2"), token(), 1);

        assertThat(update.retire()).containsExactly(0L);
        assertThat(update.pathsThatLostTheirId()).containsExactly(WIFI);
        assertThat(ids.current(WIFI)).isEmpty();
        assertThat(ids.active()).extracting(PeerConnectionIds.Entry::sequence).containsExactly(1L, 2L);
    }

    @Test
    void anIdBelowTheRetirePriorToSeenBeforeIsRetiredAtOnce() throws Exception {
        ids.onNewConnectionId(3, cid("a3"), token(), 2);

        PeerConnectionIds.Update late = ids.onNewConnectionId(1, cid("a1"), token(), 0);

        assertThat(late.retire()).containsExactly(1L);
        assertThat(ids.active()).extracting(PeerConnectionIds.Entry::sequence).containsExactly(3L);
    }

    @Test
    void moreActiveIdsThanOurLimitIsAConnectionIdLimitError() throws Exception {
        ids.onNewConnectionId(1, cid("a1"), token(), 0);
        ids.onNewConnectionId(2, cid("a2"), token(), 0);
        ids.onNewConnectionId(3, cid("a3"), token(), 0);

        assertThatThrownBy(() -> ids.onNewConnectionId(4, cid("a4"), token(), 0))
                .isInstanceOf(TransportErrorException.class)
                .extracting(e -> ((TransportErrorException) e).errorCode())
                .isEqualTo(TransportErrorException.CONNECTION_ID_LIMIT_ERROR);
    }

    @Test
    void eachPathGetsItsOwnIdAndNoSpareIsLeftWhenAllAreInUse() throws Exception {
        ids.bind(WIFI, 0);
        ids.onNewConnectionId(1, cid("a1"), token(), 0);

        assertThat(ids.assign(CELLULAR)).map(PeerConnectionIds.Entry::id).contains(cid("a1"));
        assertThat(ids.assign(CELLULAR)).as("a path keeps its ID").map(PeerConnectionIds.Entry::id).contains(cid("a1"));
        assertThat(ids.assign(tuple("127.0.0.4", 7000))).as("no spare left").isEmpty();
    }

    @Test
    void releasingAPathRetiresItsIdForGood() throws Exception {
        ids.bind(WIFI, 0);
        ids.onNewConnectionId(1, cid("a1"), token(), 0);

        assertThat(ids.release(WIFI)).contains(0L);
        assertThat(ids.active()).extracting(PeerConnectionIds.Entry::sequence).containsExactly(1L);
        PeerConnectionIds.Update again = ids.onNewConnectionId(0, cid("a0"), null, 0);
        assertThat(again.retire()).isEmpty();
        assertThat(ids.active()).as("a retired ID never comes back").extracting(PeerConnectionIds.Entry::sequence)
                .containsExactly(1L);
    }

    @Test
    void aStatelessResetMatchesTheTokenOfAnIdInUse() throws Exception {
        StatelessResetToken token = token();
        ids.bind(WIFI, 0);
        ids.onNewConnectionId(1, cid("a1"), token, 0);
        ids.assign(CELLULAR);
        byte[] datagram = endingIn(token);

        assertThat(ids.isStatelessReset(datagram, 40)).isTrue();
        assertThat(ids.isStatelessReset(datagram, 39)).isFalse();
    }

    @Test
    void theTokenOfAnIdNotInUseOrRetiredIsNoStatelessReset() throws Exception {
        StatelessResetToken token = token();
        ids.bind(WIFI, 0);
        ids.onNewConnectionId(1, cid("a1"), token, 0);
        byte[] datagram = endingIn(token);

        assertThat(ids.isStatelessReset(datagram, 40)).as("RFC 9000 10.3.1: a spare ID, never used").isFalse();
        ids.assign(CELLULAR);
        ids.release(CELLULAR);
        assertThat(ids.isStatelessReset(datagram, 40)).as("RFC 9000 10.3.1: a retired ID").isFalse();
    }

    private byte[] endingIn(StatelessResetToken token) {
        byte[] datagram = new byte[40];
        random.nextBytes(datagram);
        System.arraycopy(token.bytes(), 0, datagram, 24, 16);
        return datagram;
    }

    private StatelessResetToken token() {
        return StatelessResetToken.random(random);
    }

    static ConnectionId cid(String hex) {
        return ConnectionId.fromHex(hex);
    }

    static Tuple tuple(String localAddress, int port) {
        return new Tuple(new InetSocketAddress(localAddress, port), new InetSocketAddress("127.0.0.1", 4433));
    }
}
