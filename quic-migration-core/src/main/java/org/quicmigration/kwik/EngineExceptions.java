package org.quicmigration.kwik;

import java.io.IOException;

/** Internal: keeps the engine's exception types out of what the application can catch (W29, docs/kwik-workarounds.md#w29). */
public final class EngineExceptions {

    private static final String ENGINE_PACKAGE = "tech.kwik.";

    private EngineExceptions() {
    }

    /** True if {@code failure} or anything in its cause chain is one of the engine's types. */
    public static boolean fromEngine(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getClass().getName().startsWith(ENGINE_PACKAGE)) {
                return true;
            }
        }
        return false;
    }

    /** True if {@code failure} is the engine's report that the whole connection is closed. */
    public static boolean saysConnectionClosed(IOException failure) {
        String message = String.valueOf(failure.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return fromEngine(failure) && (message.contains("connection closed") || message.contains("connection is closed"));
    }

    /** An {@link IOException} of ours with {@code failure}'s message, and no cause from the engine. */
    public static IOException replace(IOException failure) {
        IOException replacement = new IOException(String.valueOf(failure.getMessage()));
        replacement.setStackTrace(failure.getStackTrace());
        return replacement;
    }
}
