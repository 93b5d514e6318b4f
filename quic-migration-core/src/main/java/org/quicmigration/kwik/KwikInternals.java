package org.quicmigration.kwik;

import java.util.List;

import tech.kwik.core.KwikVersion;

/**
 * Internal: the check that Kwik on the class path has every non-public member the binding reaches into. The members
 * live with the code that uses them, one class per Kwik subsystem ({@link KwikStreams}, {@link KwikRecovery},
 * {@link KwikCongestion}, {@link KwikAcks}, {@link KwikConnectionIds}, {@link KwikHandshake},
 * {@link KwikServerSetup}), each looked up by name where it is declared. {@link #verify()} loads them all and fails
 * with a message naming the Kwik version found, so an incompatible Kwik is reported at start-up instead of as a stall
 * in production.
 *
 * <p>Tested against Kwik 0.10.9 (with agent15 3.1). The work-arounds these members serve are named W1, W2, ... in
 * docs/kwik-workarounds.md.
 */
final class KwikInternals {

    static final String TESTED_KWIK_VERSION = "0.10.9";

    /** The subsystem classes: loading one looks up its members. */
    private static final List<Class<?>> SUBSYSTEMS = List.of(KwikStreams.class, KwikRecovery.class,
            KwikCongestion.class, KwikAcks.class, KwikConnectionIds.class, KwikHandshake.class, KwikServerSetup.class);

    private KwikInternals() {
    }

    /**
     * Fails if the Kwik on the class path lacks a member this library needs.
     *
     * @throws IllegalStateException naming the Kwik version found, the one tested and every member missing
     */
    static void verify() {
        for (Class<?> subsystem : SUBSYSTEMS) {
            try {
                Class.forName(subsystem.getName(), true, subsystem.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw failure(List.of(subsystem.getSimpleName() + ": " + e), e);
            }
        }
        // Used without reflection, but only meaningful if present: the filter chain position and the probe queue.
        KwikMembers.type("tech.kwik.core.packet.DropDuplicatePacketsFilter");
        KwikMembers.method(tech.kwik.core.send.SenderImpl.class, "sendProbe", List.class,
                tech.kwik.core.common.EncryptionLevel.class);
        List<String> missing = KwikMembers.missing();
        if (!missing.isEmpty()) {
            throw failure(missing, null);
        }
    }

    private static IllegalStateException failure(List<String> missing, Throwable cause) {
        return new IllegalStateException("quic-migration needs Kwik " + TESTED_KWIK_VERSION + " but found Kwik "
                + KwikVersion.getVersion() + ", which lacks internal members it uses: " + String.join("; ", missing),
                cause);
    }
}
