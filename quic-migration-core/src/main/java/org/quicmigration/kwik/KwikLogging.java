package org.quicmigration.kwik;

import tech.kwik.core.log.Logger;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.log.SysOutLogger;

/** Internal: the Kwik logger to use; {@code -Dquicmigration.kwikDebug=true} prints Kwik's packet log. */
final class KwikLogging {
    private KwikLogging() {
    }

    static Logger logger() {
        if (Boolean.getBoolean("quicmigration.kwikDebug")) {
            SysOutLogger logger = new SysOutLogger();
            logger.logPackets(true);
            logger.logInfo(true);
            logger.logWarning(true);
            logger.logDebug(true);
            return logger;
        }
        return new NullLogger();
    }
}
