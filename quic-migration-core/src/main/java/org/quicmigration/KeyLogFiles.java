package org.quicmigration;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.quicmigration.kwik.KeyLog;

/** Where a client or server writes its TLS secrets, if anywhere: the builder's file, else {@code SSLKEYLOGFILE}. */
final class KeyLogFiles {

    private static final System.Logger LOG = System.getLogger(KeyLogFiles.class.getName());

    /** The environment variable that names a key log file when the builder was given none. */
    static final String VARIABLE = "SSLKEYLOGFILE";

    private KeyLogFiles() {
    }

    /** The key log for {@code configured} (or the environment's file), or null for none. */
    static KeyLog open(Path configured) {
        Path file = choose(configured, System::getenv);
        return file != null ? new KeyLog(file) : null;
    }

    /**
     * The key log file to use: the configured one, else the file that {@value #VARIABLE} names if it is set and not
     * empty, else none (null). An unusable value is logged and ignored: a debugging aid must not stop a client or
     * server from starting.
     */
    static Path choose(Path configured, UnaryOperator<String> environment) {
        if (configured != null) {
            return configured;
        }
        String value = environment.apply(VARIABLE);
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            Path file = Path.of(value);
            LOG.log(System.Logger.Level.INFO, () -> "writing TLS secrets to " + file + " (" + VARIABLE + ")");
            return file;
        } catch (InvalidPathException e) {
            LOG.log(System.Logger.Level.WARNING, VARIABLE + " is not a usable path (" + e.getMessage()
                    + "); no TLS secrets are written");
            return null;
        }
    }
}
