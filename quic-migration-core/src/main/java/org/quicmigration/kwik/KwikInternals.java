package org.quicmigration.kwik;

/**
 * Internal: the one place that reaches into Kwik's non-public members. {@link #verify()} checks, once per
 * process, that every member we rely on exists in the Kwik on the class path, and fails with a message that
 * names the Kwik version otherwise.
 */
final class KwikInternals {

    private KwikInternals() {
    }

    static void verify() {
        // Nothing reflective is needed yet.
    }
}
