/**
 * Internal: the migration brain, sans-IO. No sockets, no threads, no Kwik: every input carries the current time
 * (nanoseconds on a monotonic clock) and randomness comes from an injected generator, so every decision is
 * reproducible in virtual time. Outputs are values the caller performs.
 */
package org.quicmigration.core;
