package org.quicmigration.qlog;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** The little JSON this package writes: objects built field by field into a StringBuilder. */
final class Json {

    private static final HexFormat HEX = HexFormat.of();

    private final StringBuilder out;
    private boolean needComma;

    Json(StringBuilder out) {
        this.out = out;
    }

    Json open() {
        comma();
        out.append('{');
        needComma = false;
        return this;
    }

    Json open(String name) {
        name(name);
        out.append('{');
        needComma = false;
        return this;
    }

    Json close() {
        out.append('}');
        needComma = true;
        return this;
    }

    Json openArray(String name) {
        name(name);
        out.append('[');
        needComma = false;
        return this;
    }

    Json closeArray() {
        out.append(']');
        needComma = true;
        return this;
    }

    Json field(String name, String value) {
        name(name);
        string(value);
        needComma = true;
        return this;
    }

    Json field(String name, long value) {
        name(name);
        out.append(value);
        needComma = true;
        return this;
    }

    /** A number of milliseconds with three decimals, e.g. {@code 1795713663798.382}, without going through double. */
    Json millis(String name, long whole, long thousandths) {
        name(name);
        out.append(whole).append('.');
        if (thousandths < 100) {
            out.append(thousandths < 10 ? "00" : "0");
        }
        out.append(thousandths);
        needComma = true;
        return this;
    }

    Json field(String name, boolean value) {
        name(name);
        out.append(value);
        needComma = true;
        return this;
    }

    Json hex(String name, byte[] value) {
        return field(name, HEX.formatHex(value));
    }

    /** A value of a frame's field map: Long, Integer, Boolean, String, Map or List of those. */
    Json value(String name, Object value) {
        if (name != null) {
            name(name);
        } else {
            comma();
        }
        if (value instanceof Map<?, ?> map) {
            out.append('{');
            needComma = false;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                value(entry.getKey().toString(), entry.getValue());
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            needComma = false;
            for (Object element : list) {
                value(null, element);
            }
            out.append(']');
        } else if (value instanceof String text) {
            string(text);
        } else {
            out.append(value); // numbers and booleans
        }
        needComma = true;
        return this;
    }

    /** qlog's TupleEndpointInfo: ip_v4/port_v4 or ip_v6/port_v6, and the connection IDs used towards it. */
    Json endpoint(String name, InetSocketAddress address, String connectionId) {
        open(name);
        if (address != null) {
            boolean v4 = address.getAddress() instanceof Inet4Address;
            field(v4 ? "ip_v4" : "ip_v6", address.getAddress().getHostAddress());
            field(v4 ? "port_v4" : "port_v6", address.getPort());
        }
        if (connectionId != null) {
            openArray("connection_ids");
            comma();
            string(connectionId);
            needComma = true;
            closeArray();
        }
        return close();
    }

    private void name(String name) {
        comma();
        string(name);
        out.append(':');
    }

    private void comma() {
        if (needComma) {
            out.append(',');
        }
    }

    private void string(String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
