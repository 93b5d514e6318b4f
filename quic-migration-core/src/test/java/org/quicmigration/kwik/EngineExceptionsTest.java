package org.quicmigration.kwik;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import org.junit.jupiter.api.Test;

/** The engine's exception types stay out of what the application catches. */
class EngineExceptionsTest {

    @Test
    void anEngineExceptionAnywhereInTheChainIsRecognised() {
        IOException engine = new tech.kwik.core.StreamClosedException("Connection closed");

        assertThat(EngineExceptions.fromEngine(engine)).isTrue();
        assertThat(EngineExceptions.fromEngine(new IOException("wrapped", engine))).isTrue();
        assertThat(EngineExceptions.fromEngine(new IOException("ours"))).isFalse();
    }

    @Test
    void theReplacementKeepsTheMessageButNoEngineType() {
        IOException replaced = EngineExceptions.replace(new IOException("stream reset", new tech.kwik.core.StreamClosedException("x")));

        assertThat(replaced.getMessage()).isEqualTo("stream reset");
        assertThat(replaced.getCause()).isNull();
        assertThat(replaced.getClass()).isEqualTo(IOException.class);
    }

    @Test
    void theEnginesConnectionClosedIsAConnectionEnd() {
        assertThat(EngineExceptions.saysConnectionClosed(new tech.kwik.core.StreamClosedException("Connection closed"))).isTrue();
        assertThat(EngineExceptions.saysConnectionClosed(new IOException("Connection closed"))).as("ours").isFalse();
        assertThat(EngineExceptions.saysConnectionClosed(new tech.kwik.core.StreamClosedException("stream 4 reset")))
                .isFalse();
    }
}
