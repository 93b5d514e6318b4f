package org.quicmigration.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What {@link SvgChart} draws with: scales, round axis ticks, and text made safe and short for SVG. */
final class SvgText {

    private SvgText() {
    }

    /** Maps values in [from, to] linearly onto [start, end] (pixels; end may be below start, as for y). */
    record Scale(double from, double to, double start, double end) {
        double at(double value) {
            return to == from ? start : start + (value - from) / (to - from) * (end - start);
        }
    }

    /**
     * An axis from {@code from} to {@code to} with round tick values, 1, 2 or 5 times a power of ten apart
     * ({@code step}), from {@code first} on.
     */
    record Ticks(double from, double to, double first, double step, int decimals) {

        /** About six ticks, the axis widened to the round values at or beyond the range's ends. */
        static Ticks of(double min, double max) {
            if (!(max > min)) {
                max = min + (min == 0 ? 1 : Math.abs(min) * 0.1);
            }
            double step = step((max - min) / 6);
            double from = Math.floor(min / step + 1e-9) * step;
            return new Ticks(from, Math.ceil(max / step - 1e-9) * step, from, step, decimals(step));
        }

        /** About eight ticks within the range, which is the axis. */
        static Ticks within(double min, double max) {
            if (!(max > min)) {
                return of(min, max);
            }
            double step = step((max - min) / 8);
            return new Ticks(min, max, Math.ceil(min / step - 1e-9) * step, step, decimals(step));
        }

        private static double step(double rough) {
            double power = Math.pow(10, Math.floor(Math.log10(rough)));
            double mantissa = rough / power;
            return mantissa <= 1 ? power : mantissa <= 2 ? 2 * power : mantissa <= 5 ? 5 * power : 10 * power;
        }

        private static int decimals(double step) {
            return Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        }

        List<Double> values() {
            List<Double> values = new ArrayList<>();
            for (long i = 0; first + i * step <= to + step * 1e-9; i++) {
                values.add(first + i * step);
            }
            return values;
        }

        String label(double value) {
            return fixed(value, decimals);
        }
    }

    /** Splits {@code text} at spaces into lines of at most {@code chars} characters (a longer word stays whole). */
    static List<String> wrap(String text, int chars) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > chars) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    /** {@code text} with XML's special characters escaped, and characters XML 1.0 cannot hold replaced by '?'. */
    static String escape(String text) {
        StringBuilder escaped = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> escaped.append("&amp;");
                case '<' -> escaped.append("&lt;");
                case '>' -> escaped.append("&gt;");
                case '"' -> escaped.append("&quot;");
                case '\'' -> escaped.append("&apos;");
                default -> escaped.append(c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xFFFE || c == 0xFFFF
                        ? '?' : c);
            }
        }
        return escaped.toString();
    }

    /** {@code value} with {@code decimals} decimals, never "-0". */
    static String fixed(double value, int decimals) {
        String text = String.format(Locale.ROOT, "%." + decimals + "f", value);
        return text.matches("-0(\\.0*)?") ? text.substring(1) : text;
    }

    /** A coordinate: at most two decimals, without trailing zeros. */
    static String n(double value) {
        String text = fixed(value, 2);
        if (text.contains(".")) {
            text = text.replaceAll("0+$", "");
            if (text.endsWith(".")) {
                text = text.substring(0, text.length() - 1);
            }
        }
        return text;
    }
}
