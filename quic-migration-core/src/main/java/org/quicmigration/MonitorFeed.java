package org.quicmigration;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.quicmigration.core.policy.LocalNetwork;
import org.quicmigration.kwik.NetworkFeed;

/** Hands a public {@link NetworkMonitor} to the binding. */
final class MonitorFeed implements NetworkFeed {

    private final NetworkMonitor monitor;

    MonitorFeed(NetworkMonitor monitor) {
        this.monitor = monitor;
    }

    @Override
    public List<LocalNetwork> networks() {
        return monitor.networks().stream().map(n -> new LocalNetwork(n.interfaceName(), n.address())).toList();
    }

    @Override
    public InetAddress defaultSource(InetSocketAddress destination) {
        return monitor.defaultSource(destination).orElse(null);
    }

    @Override
    public Runnable subscribe(Runnable onChange) {
        NetworkMonitor.Subscription subscription = monitor.subscribe(onChange);
        return subscription::cancel;
    }
}
