package org.quicmigration.http3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** How the client reads a response's frames, from bytes a server may send. */
class Http3ClientTest {

    @Test
    void aStatusThatIsNotThreeDigitsFrom100To599IsMalformed() throws IOException {
        for (String status : List.of("+200", "-1", "2000", "099", "20", "600", " 200", "")) {
            Throwable failure = catchThrowable(() -> Http3Client.readResponse(new ByteArrayInputStream(headers(status))));

            assertThat(failure).as(":status \"%s\"", status).isInstanceOf(Http3Exception.class);
        }
    }

    @Test
    void aThreeDigitStatusIsRead() throws IOException {
        assertThat(Http3Client.readResponse(new ByteArrayInputStream(headers("599"))).status()).isEqualTo(599);
        assertThat(Http3Client.readResponse(new ByteArrayInputStream(headers("204"))).status()).isEqualTo(204);
    }

    private static byte[] headers(String status) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Http3Frames.writeHeaders(out, List.of(Map.entry(":status", status)));
        return out.toByteArray();
    }
}
