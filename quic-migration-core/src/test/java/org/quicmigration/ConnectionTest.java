package org.quicmigration;

import static org.assertj.core.api.Assertions.assertThat;


import org.junit.jupiter.api.Test;

class ConnectionTest {

    @Test
    void echoesTwoMegabytesByteForByte() throws Exception {
        try (MigrationServer server = Echo.startServer();
             MigratingConnection connection = Echo.client(server).build().connect()) {
            byte[] data = Echo.randomBytes(2 * 1024 * 1024, 1);
            assertThat(Echo.exchange(connection, data)).isEqualTo(Echo.sha256(data));
            assertThat(connection.isOpen()).isTrue();
        }
    }
}
