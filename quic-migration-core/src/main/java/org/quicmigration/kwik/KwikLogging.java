package org.quicmigration.kwik;

import tech.kwik.core.log.Logger;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.log.SysOutLogger;

/**
 * Internal: the Kwik logger to use; {@code -Dquicmigration.kwikDebug=true} prints Kwik's packet log,
 * {@code -Dquicmigration.kwikCongestionDebug=true} only its congestion control and recovery log.
 */
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
        if (Boolean.getBoolean("quicmigration.kwikCongestionDebug")) {
            // Only congestion control and loss recovery: readable during a bulk transfer, unlike the packet log.
            SysOutLogger logger = new SysOutLogger();
            logger.logCongestionControl(true);
            logger.logRecovery(true);
            return logger;
        }
        return new NullLogger();
    }
}
