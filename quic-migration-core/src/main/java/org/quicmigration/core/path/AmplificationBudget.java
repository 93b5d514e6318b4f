package org.quicmigration.core.path;

/**
 * The anti-amplification limit of one unvalidated path (RFC 9000 8 and 9.3): "an endpoint MUST limit the
 * amount of data it sends to the unvalidated address to three times the amount of data received from that
 * address." Counts bytes; lifts the limit once the path is validated. Not thread-safe.
 */
public final class AmplificationBudget {

    private final int factor;
    private long received;
    private long sent;
    private boolean validated;

    public AmplificationBudget(int factor) {
        if (factor < 1) {
            throw new IllegalArgumentException("amplification factor must be at least 1, was " + factor);
        }
        this.factor = factor;
    }

    public void onReceived(int bytes) {
        received += bytes;
    }

    /** True if {@code bytes} more may be sent now; if so they are counted as sent. */
    public boolean trySend(int bytes) {
        if (validated) {
            sent += bytes;
            return true;
        }
        if (sent + bytes > received * factor) {
            return false;
        }
        sent += bytes;
        return true;
    }

    /** Bytes that may still be sent before validation (Long.MAX_VALUE once validated). */
    public long remaining() {
        return validated ? Long.MAX_VALUE : Math.max(0, received * factor - sent);
    }

    public void validated() {
        validated = true;
    }

    public boolean isValidated() {
        return validated;
    }

    public long bytesSent() {
        return sent;
    }

    public long bytesReceived() {
        return received;
    }
}
