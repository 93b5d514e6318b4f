package org.quicmigration.kwik;

import java.io.IOException;

/** Internal: an operation failed because the connection has ended; carries how it ended. */
public final class ConnectionEndedException extends IOException {

    private final Termination termination;

    ConnectionEndedException(Termination termination) {
        super("connection ended: " + termination);
        this.termination = termination;
    }

    public Termination termination() {
        return termination;
    }
}
