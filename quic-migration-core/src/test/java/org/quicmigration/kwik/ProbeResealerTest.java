package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import tech.kwik.core.crypto.Aead;
import tech.kwik.core.impl.Version;

/** {@link ProbeResealer} on datagrams Kwik did not build the way it builds every packet. */
class ProbeResealerTest {

    @Test
    void aPacketNumberLengthKwikWouldNotWriteGivesNoPacketRatherThanOneBelowTheTargetSize() {
        Aead aead = ProbeResealerFuzzProperties.aead(5);
        byte[] newId = {1, 2, 3, 4, 5, 6, 7, 8};
        RoutedProbeFrame probe = RoutedProbeFrame.resealed(new byte[8], newId);
        byte[] datagram = ProbeResealerFuzzProperties.kwiksPacket(aead, new byte[8], 0, false, probe);
        // Packet number 0 is written in one byte. Flipping the protected length bits makes the header claim two: a
        // number below 256 in two bytes, which Kwik never writes. Sealed with that number in one byte but counting
        // two, the datagram came out 1 byte short of the target (1,199 bytes for 1,200: below RFC 9000 8.2.1's
        // minimum for a PATH_CHALLENGE).
        datagram[0] ^= 0x01;

        ProbeResealer.Resealed resealed = new ProbeResealer(() -> aead, Version::getDefault)
                .reseal(datagram, 0, datagram.length, 8, probe, RoutedProbeFrame.MIN_PROBE_DATAGRAM);

        assertThat(resealed).as("the resealed packet of a damaged header").isNull();
    }

    @Test
    void aPacketKwikBuiltWithEachNumberLengthComesBackAtExactlyTheTargetSize() {
        Aead aead = ProbeResealerFuzzProperties.aead(6);
        byte[] newId = {9, 8, 7, 6};
        for (long packetNumber : new long[]{0, 0xff, 0x100, 0xffff, 0x10000, 0xffffff, 0x1000000}) {
            RoutedProbeFrame probe = RoutedProbeFrame.resealed(new byte[8], newId);
            byte[] datagram = ProbeResealerFuzzProperties.kwiksPacket(aead, new byte[8], packetNumber, true, probe);

            ProbeResealer.Resealed resealed = new ProbeResealer(() -> aead, Version::getDefault)
                    .reseal(datagram, 0, datagram.length, 8, probe, 40);

            assertThat(resealed).as("packet number %d", packetNumber).isNotNull();
            assertThat(resealed.datagram()).as("packet number %d", packetNumber).hasSize(40);
        }
    }
}
