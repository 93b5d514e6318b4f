package org.quicmigration;

import java.util.function.BooleanSupplier;

/** Test helper: waits for a condition with a deadline, failing with a message that says what did not happen. */
public final class Await {
    private Await() {
    }

    public static void until(BooleanSupplier condition, long timeoutMillis, String what) throws InterruptedException {
        until(condition, timeoutMillis, () -> what);
    }

    /** As {@link #until(BooleanSupplier, long, String)}, with the message made at the deadline (state then). */
    public static void until(BooleanSupplier condition, long timeoutMillis, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeoutMillis + " ms: " + what.get());
            }
            Thread.sleep(2); // polling interval of the condition, not synchronisation
        }
    }
}
