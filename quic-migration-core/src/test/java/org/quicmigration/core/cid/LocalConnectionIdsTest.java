package org.quicmigration.core.cid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.quicmigration.core.ConnectionId;
import org.quicmigration.core.TransportErrorException;

class LocalConnectionIdsTest {

    private final LocalConnectionIds ids = new LocalConnectionIds(ConnectionId.fromHex("c0c0c0c0c0c0c0c0"), 8,
            new SplittableRandom(7));

    @Test
    void topUpIssuesIdsUntilThePeerHoldsItsLimit() {
        ids.peerLimit(4);

        List<LocalConnectionIds.Issued> issued = ids.topUp();

        assertThat(issued).extracting(LocalConnectionIds.Issued::sequence).containsExactly(1L, 2L, 3L);
        assertThat(issued).allSatisfy(id -> {
            assertThat(id.id().length()).isEqualTo(8);
            assertThat(id.resetToken()).isNotNull();
        });
        assertThat(issued).extracting(LocalConnectionIds.Issued::id).doesNotHaveDuplicates();
        assertThat(ids.topUp()).as("nothing more while the peer is full").isEmpty();
    }

    @Test
    void aHugePeerLimitIsCappedToBoundOurState() {
        ids.peerLimit(1_000_000);

        assertThat(ids.topUp()).hasSize(LocalConnectionIds.MAX_ACTIVE - 1);
    }

    @Test
    void retiringAnIdIssuesAReplacement() throws Exception {
        ids.peerLimit(2);
        LocalConnectionIds.Issued first = ids.topUp().get(0);

        List<LocalConnectionIds.Issued> replacement = ids.onRetire(0, first.id());

        assertThat(replacement).extracting(LocalConnectionIds.Issued::sequence).containsExactly(2L);
        assertThat(ids.activeCount()).isEqualTo(2);
    }

    @Test
    void retiringASequenceNeverIssuedIsAProtocolViolation() {
        ids.peerLimit(2);
        ids.topUp();

        assertThatThrownBy(() -> ids.onRetire(5, ConnectionId.fromHex("c0c0c0c0c0c0c0c0")))
                .isInstanceOf(TransportErrorException.class)
                .extracting(e -> ((TransportErrorException) e).errorCode())
                .isEqualTo(TransportErrorException.PROTOCOL_VIOLATION);
    }

    @Test
    void retiringTheIdThePacketWasSentToIsAProtocolViolation() {
        ids.peerLimit(2);
        ids.topUp();

        assertThatThrownBy(() -> ids.onRetire(0, ConnectionId.fromHex("c0c0c0c0c0c0c0c0")))
                .isInstanceOf(TransportErrorException.class);
    }
}
