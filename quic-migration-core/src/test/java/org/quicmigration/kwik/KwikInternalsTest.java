package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KwikInternalsTest {

    @Test
    void everyKwikMemberTheBindingNeedsIsPresent() {
        KwikInternals.verify(); // throws with the Kwik version if one is missing
    }

    @Test
    void aZeroMillisecondSmoothedRttIsLiftedToOne() {
        tech.kwik.core.recovery.RttEstimator rtt = new tech.kwik.core.recovery.RttEstimator(new tech.kwik.core.log.NullLogger());
        java.time.Instant sent = java.time.Instant.now();
        rtt.addSample(sent, sent, 0); // a loopback round trip that rounds to 0 ms
        assertThat(rtt.getSmoothedRtt()).as("Kwik's estimate after a 0 ms first sample").isZero();

        KwikCongestion.keepRttAboveZero(rtt);

        assertThat(rtt.getSmoothedRtt()).isEqualTo(1);
        rtt.addSample(sent, sent, 0);
        assertThat(rtt.getSmoothedRtt()).as("Kwik's rounding keeps it at 1 ms").isEqualTo(1);
    }

    @Test
    void preferredAddressPortsAreRecoveredFromKwiksSignExtendedParse() {
        // What Kwik 0.10.9 computes: (signedHighByte << 8) | signedLowByte.
        for (int port : new int[]{336, 4433, 0x7f7f, 0x807f, 0xff00, 0xff7f, 40_000 & 0xff7f}) {
            int parsed = ((byte) (port >> 8) << 8) | (byte) port;
            assertThat(KwikConnectionIds.decodePreferredPort(parsed)).as("port %d", port).isEqualTo(port);
        }
    }

    @Test
    void portsWhoseLowByteKwikSignExtendedAreReportedAsUnknown() {
        for (int port : new int[]{443, 0x0080, 0x1f90, 0x8080, 0xffff, 40_856}) {
            int parsed = ((byte) (port >> 8) << 8) | (byte) port;
            assertThat(KwikConnectionIds.decodePreferredPort(parsed)).as("port %d", port).isEqualTo(-1);
        }
    }
}
