/**
 * Internal: writes qlog files (JSON-SEQ, {@code .sqlog}) with the migration events of
 * draft-ietf-quic-qlog-quic-events-13, which qvis opens. Users turn it on with {@code qlogDirectory(Path)} on
 * the client or server builder. Formatting and file I/O run on one background thread, never on network threads.
 */
package org.quicmigration.qlog;
