/**
 * Internal: the binding to the Kwik QUIC engine. This is the only package that imports {@code tech.kwik};
 * nothing here is public API, and it may change in any release.
 */
package org.quicmigration.kwik;
