package org.quicmigration.qlog;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that formats and writes every qlog event of the process. Network threads only offer events to
 * its bounded queue; when the queue is full, the event is dropped and counted in its file, so a slow disk never
 * slows the network.
 */
final class QlogWriterThread {

    /** Events waiting to be written, at most; about 64 MB in the worst case. */
    static final int QUEUE_CAPACITY = 1 << 16;

    private static final System.Logger LOG = System.getLogger(QlogWriterThread.class.getName());

    private record Entry(QlogFile file, Object event) {
    }

    private record Drain(CountDownLatch done) {
    }

    private static final class Holder {
        static final QlogWriterThread INSTANCE = new QlogWriterThread();
    }

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Set<QlogFile> unflushed = new HashSet<>(); // writer thread only

    private QlogWriterThread() {
        Thread thread = new Thread(this::run, "quic-migration-qlog");
        thread.setDaemon(true);
        thread.start();
    }

    static QlogWriterThread instance() {
        return Holder.INSTANCE;
    }

    /** Queues an event; false if the queue is full (the caller counts the loss). Never blocks. */
    boolean offer(QlogFile file, Object event) {
        return queue.offer(new Entry(file, event));
    }

    /** Waits until everything queued before this call is written and flushed; false if the timeout passed. */
    boolean drain(Duration timeout) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!queue.offer(new Drain(done), 10, TimeUnit.MILLISECONDS)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
        }
        return done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void run() {
        while (true) {
            try {
                Object next = queue.take();
                handle(next);
                while ((next = queue.poll()) != null) {
                    handle(next);
                }
                flushAll(); // idle: make what was written visible
            } catch (InterruptedException e) {
                return; // daemon thread; only interrupted at JVM exit
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "qlog writer failed on an event; continuing", e);
            }
        }
    }

    private void handle(Object next) {
        if (next instanceof Entry entry) {
            entry.file().write(entry.event());
            if (entry.file().isOpen()) {
                unflushed.add(entry.file());
            } else {
                unflushed.remove(entry.file());
            }
        } else if (next instanceof Drain drain) {
            flushAll();
            drain.done().countDown();
        }
    }

    private void flushAll() {
        for (QlogFile file : unflushed) {
            file.flush();
        }
        unflushed.clear();
    }
}
