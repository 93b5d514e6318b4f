package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.quicmigration.Fuzz;

import tech.kwik.core.crypto.Aead;
import tech.kwik.core.crypto.Aes128Gcm;
import tech.kwik.core.frame.PathChallengeFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.impl.Role;
import tech.kwik.core.impl.Version;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.packet.ShortHeaderPacket;

/**
 * {@link ProbeResealer} reading back the packet number of the 1-RTT packet Kwik built around a probe (RFC 9001 5.4
 * header protection) and sealing the probe again. Valid packets, with destination IDs of 0 to 20 bytes, packet
 * numbers of 1 to 4 bytes and an ACK frame in front or not, come back sealed under the same packet number with the
 * probe's own ID, the path frame and padding to the target size; anything else (truncated, bits flipped, noise, a
 * long header, a wrong ID length, a target size of 0 to 1500) gives null or a packet of the right size, never an
 * exception.
 */
class ProbeResealerFuzzProperties {

    private static final Version V1 = Version.getDefault();

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void aPacketKwikBuiltIsSealedAgainUnderItsOwnNumber(@ForAll @IntRange(max = 20) int idLength,
                                                       @ForAll @LongRange(max = (1L << 30) - 1) long packetNumber,
                                                       @ForAll boolean ack, @ForAll("ids") byte[] newId,
                                                       @ForAll @IntRange(max = 40) int offset, @ForAll long seed)
            throws Exception {
        Aead aead = aead(seed);
        byte[] data = ByteBuffer.allocate(8).putLong(seed).array();
        RoutedProbeFrame probe = RoutedProbeFrame.resealed(data, newId);
        byte[] datagram = kwiksPacket(aead, new byte[idLength], packetNumber, ack, probe);
        byte[] buffer = Fuzz.concat(new byte[offset], datagram, new byte[7]);

        ProbeResealer.Resealed resealed = new ProbeResealer(() -> aead, () -> V1)
                .reseal(buffer, offset, datagram.length, idLength, probe, RoutedProbeFrame.MIN_PROBE_DATAGRAM);

        assertThat(resealed).as("the resealed packet").isNotNull();
        assertThat(resealed.datagram()).as("the probe's datagram (RFC 9000 8.2.1)").hasSize(RoutedProbeFrame.MIN_PROBE_DATAGRAM);
        ShortHeaderPacket read = new ShortHeaderPacket(V1);
        read.parse(ByteBuffer.wrap(resealed.datagram()), aead, packetNumber - 1, new NullLogger(), newId.length);
        assertThat(read.getPacketNumber()).as("packet number").isEqualTo(packetNumber);
        assertThat(read.getDestinationConnectionId()).as("destination ID").isEqualTo(newId);
        QuicFrame first = read.getFrames().get(0);
        assertThat(first).isInstanceOf(PathChallengeFrame.class);
        assertThat(((PathChallengeFrame) first).getData()).as("challenge data").isEqualTo(data);
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void anyDatagramGivesNullOrAPacketOfTheTargetSize(@ForAll("datagrams") byte[] datagram,
                                                       @ForAll @IntRange(max = 24) int idLength,
                                                       @ForAll @IntRange(max = 1500) int targetSize,
                                                       @ForAll("ids") byte[] newId, @ForAll long seed) {
        Aead aead = aead(seed);
        RoutedProbeFrame probe = RoutedProbeFrame.resealed(new byte[8], newId);

        Fuzz.Outcome<ProbeResealer.Resealed> resealed = Fuzz.run(() -> new ProbeResealer(() -> aead, () -> V1)
                .reseal(datagram, 0, datagram.length, idLength, probe, targetSize))
                .failedOnlyWith().allocatedAtMost(8L * Math.max(targetSize, 100) + Fuzz.ALLOCATION_SLACK);

        if (resealed.value() != null) {
            int smallest = 1 + newId.length + 1 + 16 + 9;
            int largest = 1 + newId.length + 4 + 16 + 9;
            assertThat(resealed.value().datagram().length).as("size for a target of %d", targetSize)
                    .isBetween(Math.max(targetSize, smallest), Math.max(targetSize, largest));
        }
    }

    static Aead aead(long seed) {
        byte[] secret = new byte[32];
        new Random(seed).nextBytes(secret);
        return new Aes128Gcm(V1, Role.Client, false, secret, null, new NullLogger());
    }

    /** The datagram Kwik's sender builds for a probe: maybe an ACK, then the path frame. */
    static byte[] kwiksPacket(Aead aead, byte[] destination, long packetNumber, boolean ack,
                                      RoutedProbeFrame probe) {
        ShortHeaderPacket packet = new ShortHeaderPacket(V1, destination,
                ack ? new tech.kwik.core.frame.AckFrame(Math.max(0, packetNumber - 3)) : probe);
        if (ack) {
            packet.addFrame(probe);
        }
        packet.setPacketNumber(packetNumber);
        byte[] datagram = packet.generatePacketBytes(aead);
        RoutedProbeFrame.takeRoute(); // serialising the probe left its route for the socket; no socket here
        return datagram;
    }

    @Provide
    Arbitrary<byte[]> ids() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(20);
    }

    @Provide
    Arbitrary<byte[]> datagrams() {
        Arbitrary<byte[]> valid = Arbitraries.integers().between(0, 20).flatMap(idLength ->
                Arbitraries.longs().between(0, (1L << 30) - 1).map(packetNumber -> kwiksPacket(aead(packetNumber),
                        new byte[idLength], packetNumber, packetNumber % 2 == 0,
                        RoutedProbeFrame.resealed(new byte[8], new byte[]{9, 9, 9, 9}))));
        Arbitrary<byte[]> longHeader = valid.map(bytes -> {
            byte[] copy = bytes.clone();
            copy[0] |= (byte) 0x80;
            return copy;
        });
        return Arbitraries.oneOf(Fuzz.damaged(valid), longHeader);
    }
}
