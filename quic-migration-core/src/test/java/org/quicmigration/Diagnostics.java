package org.quicmigration;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;

/** Test helper: what every thread was doing, for failure messages about stalls. */
final class Diagnostics {
    private Diagnostics() {
    }

    static String threadDump() {
        StringBuilder dump = new StringBuilder();
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            dump.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState()).append('\n');
            StackTraceElement[] stack = info.getStackTrace();
            for (int i = 0; i < Math.min(stack.length, 12); i++) {
                dump.append("    at ").append(stack[i]).append('\n');
            }
        }
        return dump.toString();
    }
}
