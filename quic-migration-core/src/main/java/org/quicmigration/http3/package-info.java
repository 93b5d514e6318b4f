/**
 * A small HTTP/3 (RFC 9114) layer over {@link org.quicmigration.MigratingConnection}: enough for GET requests and
 * streamed responses, so that an HTTP/3 download can be migrated like any other stream. Control streams carry an
 * empty SETTINGS frame; header fields are QPACK-coded (RFC 9204) with the static table only, no dynamic table, so
 * no encoder or decoder stream is needed. Not supported: server push, trailers, CONNECT, and priorities; unknown
 * frame types are skipped as RFC 9114 7.2.8 asks.
 *
 * <p>{@link org.quicmigration.http3.Http3Client} makes requests; {@link org.quicmigration.http3.Http3Server}
 * answers them on a {@link org.quicmigration.MigrationServer} connection whose application protocol is
 * {@code "h3"}.
 */
package org.quicmigration.http3;
