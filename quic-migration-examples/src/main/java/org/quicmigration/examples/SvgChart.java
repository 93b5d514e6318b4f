package org.quicmigration.examples;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Plain SVG charts for the benchmarks' results: bars with range whiskers, and step lines. The same chart always
 * gives the same bytes: numbers are formatted with {@link Locale#ROOT} and a fixed precision, and nothing of the
 * moment of drawing goes in (a caption, if given, is the only free text besides the data's labels). Text is
 * escaped for XML. Elements carry a class ({@code bar}, {@code whisker}, {@code value}, {@code reference},
 * {@code line}, {@code legend}, ...) so a stylesheet or a test can find them. Stateless and thread-safe.
 */
final class SvgChart {

    /** Okabe and Ito's colours, told apart also by people with a colour vision deficiency (yellow left out). */
    private static final String[] COLOURS = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
            "#000000", "#999999"};
    private static final int WIDTH = 960;
    private static final int PLOT_HEIGHT = 380;
    private static final int LEFT = 84;
    private static final int RIGHT = 24;
    private static final int FONT = 13;
    /** A rough width of one character at {@link #FONT} in a sans-serif font, for wrapping and the legend. */
    private static final double CHAR_WIDTH = 7.2;
    private static final int LINE_HEIGHT = 17;

    private SvgChart() {
    }

    /**
     * One bar: its place ({@code group} along the axis, {@code series} within the group, which picks its colour),
     * its value (the bar's height), the range its whisker spans ({@code low} to {@code high}; NaN for none) and a
     * reference value drawn across it as a dashed mark (NaN for none). Values are not negative.
     */
    record Bar(String group, String series, double value, double low, double high, double reference) {
        Bar {
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(series, "series");
            if (!(value >= 0) || low < 0 || high < 0 || reference < 0) {
                throw new IllegalArgumentException("a bar's values must be 0 or more: " + group + ", " + series
                        + ": " + value + " (" + low + "-" + high + "), reference " + reference);
            }
        }
    }

    /**
     * A bar chart: bars grouped along the horizontal axis in the order their groups first appear, one colour per
     * series; value labels with {@code decimals} decimals; {@code referenceLabel} names the dashed marks in the
     * legend (ignored if no bar has one). {@code subtitle} and {@code caption} may be null.
     */
    record BarChart(String title, String subtitle, String valueAxis, List<Bar> bars, int decimals,
                    String referenceLabel, String caption) {
        BarChart {
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(valueAxis, "valueAxis");
            bars = List.copyOf(bars);
            if (bars.isEmpty()) {
                throw new IllegalArgumentException("a bar chart needs a bar: " + title);
            }
        }
    }

    /** One line of a step chart: y holds from each x to the next; {@code x} ascending, as long as {@code y}. */
    record Line(String name, double[] x, double[] y) {
        Line {
            Objects.requireNonNull(name, "name");
            if (x.length != y.length || x.length == 0) {
                throw new IllegalArgumentException("line " + name + ": " + x.length + " x and " + y.length
                        + " y values (needs as many of each, at least one)");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /**
     * A step chart: one line per entry in the legend; a dashed vertical mark at {@code markerX} labelled
     * {@code markerLabel} (NaN for none). {@code subtitle} and {@code caption} may be null.
     */
    record LineChart(String title, String subtitle, String xAxis, String yAxis, List<Line> lines, double markerX,
                     String markerLabel, String caption) {
        LineChart {
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(xAxis, "xAxis");
            Objects.requireNonNull(yAxis, "yAxis");
            lines = List.copyOf(lines);
            if (lines.isEmpty()) {
                throw new IllegalArgumentException("a line chart needs a line: " + title);
            }
        }
    }

    /** The SVG document of {@code chart}. */
    static String render(BarChart chart) {
        List<String> groups = new ArrayList<>(new LinkedHashSet<>(chart.bars().stream().map(Bar::group).toList()));
        List<String> series = new ArrayList<>(new LinkedHashSet<>(chart.bars().stream().map(Bar::series).toList()));
        boolean references = chart.bars().stream().anyMatch(bar -> !Double.isNaN(bar.reference()));
        List<Legend> legend = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            legend.add(new Legend(series.get(i), colour(i), false));
        }
        if (references && chart.referenceLabel() != null) {
            legend.add(new Legend(chart.referenceLabel(), "#222222", true));
        }
        double plotWidth = WIDTH - LEFT - RIGHT;
        double groupWidth = plotWidth / groups.size();
        int labelChars = Math.max(6, (int) ((groupWidth - 8) / CHAR_WIDTH));
        int labelLines = groups.stream().mapToInt(group -> SvgText.wrap(group, labelChars).size()).max().orElse(1);
        Svg svg = new Svg(chart.title(), chart.subtitle(), legend, labelLines * LINE_HEIGHT + 40, chart.caption());

        double top = 0;
        for (Bar bar : chart.bars()) {
            top = Math.max(top, max(bar.value(), bar.high(), bar.reference()));
        }
        SvgText.Ticks ticks = SvgText.Ticks.of(0, top * 1.08); // room for the labels above the highest whisker
        SvgText.Scale y = new SvgText.Scale(ticks.from(), ticks.to(), svg.plotBottom(), svg.plotTop());
        svg.valueAxis(ticks, y, chart.valueAxis());

        double barWidth = Math.min(groupWidth * 0.8 / series.size(), 90);
        for (int g = 0; g < groups.size(); g++) {
            double groupLeft = LEFT + g * groupWidth;
            double first = groupLeft + (groupWidth - barWidth * series.size()) / 2;
            for (Bar bar : chart.bars()) {
                if (!bar.group().equals(groups.get(g))) {
                    continue;
                }
                int s = series.indexOf(bar.series());
                double x = first + s * barWidth + barWidth * 0.06;
                double width = barWidth * 0.88;
                double centre = x + width / 2;
                double barTop = y.at(bar.value());
                svg.element(String.format(Locale.ROOT,
                        "<rect class=\"bar\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"><title>%s</title></rect>",
                        SvgText.n(x), SvgText.n(barTop), SvgText.n(width), SvgText.n(y.at(0) - barTop), colour(s),
                        SvgText.escape(bar.group() + ", " + bar.series() + ": " + SvgText.fixed(bar.value(), chart.decimals()))));
                double labelAt = barTop;
                if (!Double.isNaN(bar.low()) && !Double.isNaN(bar.high())) {
                    double low = y.at(bar.low());
                    double high = y.at(bar.high());
                    double cap = Math.min(width / 4, 8);
                    svg.element(String.format(Locale.ROOT,
                            "<path class=\"whisker\" d=\"M%s %sV%sM%s %sH%sM%s %sH%s\" stroke=\"#222222\" stroke-width=\"1.5\" fill=\"none\"/>",
                            SvgText.n(centre), SvgText.n(low), SvgText.n(high), SvgText.n(centre - cap), SvgText.n(low), SvgText.n(centre + cap), SvgText.n(centre - cap),
                            SvgText.n(high), SvgText.n(centre + cap)));
                    labelAt = Math.min(labelAt, high);
                }
                if (!Double.isNaN(bar.reference())) {
                    double at = y.at(bar.reference());
                    svg.element(String.format(Locale.ROOT,
                            "<line class=\"reference\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#222222\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
                            SvgText.n(x - barWidth * 0.04), SvgText.n(at), SvgText.n(x + width + barWidth * 0.04), SvgText.n(at)));
                    labelAt = Math.min(labelAt, at);
                }
                svg.element(String.format(Locale.ROOT,
                        "<text class=\"value\" x=\"%s\" y=\"%s\" text-anchor=\"middle\" font-size=\"%d\">%s</text>",
                        SvgText.n(centre), SvgText.n(labelAt - 5), FONT - 1, SvgText.escape(SvgText.fixed(bar.value(), chart.decimals()))));
            }
            List<String> label = SvgText.wrap(groups.get(g), labelChars);
            StringBuilder text = new StringBuilder(String.format(Locale.ROOT,
                    "<text class=\"group\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">", SvgText.n(groupLeft + groupWidth / 2),
                    SvgText.n(svg.plotBottom() + 20)));
            for (int i = 0; i < label.size(); i++) {
                text.append(String.format(Locale.ROOT, "<tspan x=\"%s\" dy=\"%s\">%s</tspan>",
                        SvgText.n(groupLeft + groupWidth / 2), i == 0 ? "0" : String.valueOf(LINE_HEIGHT), SvgText.escape(label.get(i))));
            }
            svg.element(text.append("</text>").toString());
        }
        svg.axisLine(svg.plotBottom());
        return svg.finish();
    }

    /** The SVG document of {@code chart}. */
    static String render(LineChart chart) {
        List<Legend> legend = new ArrayList<>();
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < chart.lines().size(); i++) {
            Line line = chart.lines().get(i);
            legend.add(new Legend(line.name(), colour(i), false));
            for (int p = 0; p < line.x().length; p++) {
                minX = Math.min(minX, line.x()[p]);
                maxX = Math.max(maxX, line.x()[p]);
                minY = Math.min(minY, line.y()[p]);
                maxY = Math.max(maxY, line.y()[p]);
            }
        }
        if (!Double.isNaN(chart.markerX())) {
            minX = Math.min(minX, chart.markerX());
            maxX = Math.max(maxX, chart.markerX());
        }
        Svg svg = new Svg(chart.title(), chart.subtitle(), legend, 2 * LINE_HEIGHT + 22, chart.caption());
        SvgText.Ticks yTicks = SvgText.Ticks.of(minY, maxY);
        SvgText.Ticks xTicks = SvgText.Ticks.within(minX, maxX);
        SvgText.Scale y = new SvgText.Scale(yTicks.from(), yTicks.to(), svg.plotBottom(), svg.plotTop());
        SvgText.Scale x = new SvgText.Scale(xTicks.from(), xTicks.to(), LEFT, WIDTH - RIGHT);
        svg.valueAxis(yTicks, y, chart.yAxis());
        for (double tick : xTicks.values()) {
            svg.element(String.format(Locale.ROOT,
                    "<line class=\"grid\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#e4e4e4\"/>",
                    SvgText.n(x.at(tick)), SvgText.n(svg.plotTop()), SvgText.n(x.at(tick)), SvgText.n(svg.plotBottom())));
            svg.element(String.format(Locale.ROOT,
                    "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>", SvgText.n(x.at(tick)),
                    SvgText.n(svg.plotBottom() + 18), xTicks.label(tick)));
        }
        svg.element(String.format(Locale.ROOT, "<text class=\"axis\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>",
                SvgText.n(LEFT + (WIDTH - LEFT - RIGHT) / 2.0), SvgText.n(svg.plotBottom() + 18 + LINE_HEIGHT + 4), SvgText.escape(chart.xAxis())));
        if (!Double.isNaN(chart.markerX())) {
            double at = x.at(chart.markerX());
            svg.element(String.format(Locale.ROOT,
                    "<line class=\"marker\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#555555\" stroke-dasharray=\"4 4\"/>",
                    SvgText.n(at), SvgText.n(svg.plotTop()), SvgText.n(at), SvgText.n(svg.plotBottom())));
            if (chart.markerLabel() != null) {
                svg.element(String.format(Locale.ROOT,
                        "<text class=\"marker-label\" x=\"%s\" y=\"%s\" fill=\"#555555\">%s</text>", SvgText.n(at + 4),
                        SvgText.n(svg.plotTop() + 14), SvgText.escape(chart.markerLabel())));
            }
        }
        for (int i = 0; i < chart.lines().size(); i++) {
            Line line = chart.lines().get(i);
            StringBuilder path = new StringBuilder("M").append(SvgText.n(x.at(line.x()[0]))).append(' ')
                    .append(SvgText.n(y.at(line.y()[0])));
            for (int p = 1; p < line.x().length; p++) {
                path.append('H').append(SvgText.n(x.at(line.x()[p]))).append('V').append(SvgText.n(y.at(line.y()[p])));
            }
            svg.element(String.format(Locale.ROOT,
                    "<path class=\"line\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>%s</title></path>",
                    path, colour(i), SvgText.escape(line.name())));
        }
        svg.axisLine(svg.plotBottom());
        return svg.finish();
    }

    /** A legend entry: a filled square, or a dashed line for a reference mark. */
    private record Legend(String label, String colour, boolean dashed) {
    }

    /** A document being written: title, subtitle and legend on top, the plot, room below it, a caption. */
    private static final class Svg {
        private final StringBuilder body = new StringBuilder();
        private final String title;
        private final double plotTop;
        private final double height;

        Svg(String title, String subtitle, List<Legend> legend, int below, String caption) {
            this.title = title;
            double y = 30;
            element(String.format(Locale.ROOT,
                    "<text class=\"title\" x=\"%d\" y=\"%s\" font-size=\"18\" font-weight=\"bold\">%s</text>", LEFT,
                    SvgText.n(y), SvgText.escape(title)));
            if (subtitle != null) {
                y += LINE_HEIGHT + 4;
                element(String.format(Locale.ROOT, "<text class=\"subtitle\" x=\"%d\" y=\"%s\" fill=\"#444444\">%s</text>",
                        LEFT, SvgText.n(y), SvgText.escape(subtitle)));
            }
            y += LINE_HEIGHT + 8;
            double x = LEFT;
            for (Legend entry : legend) {
                double width = 16 + 6 + entry.label().length() * CHAR_WIDTH + 18;
                if (x > LEFT && x + width > WIDTH - RIGHT) {
                    x = LEFT;
                    y += LINE_HEIGHT + 4;
                }
                String swatch = entry.dashed()
                        ? String.format(Locale.ROOT,
                                "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
                                SvgText.n(x), SvgText.n(y - 4), SvgText.n(x + 16), SvgText.n(y - 4), entry.colour())
                        : String.format(Locale.ROOT, "<rect x=\"%s\" y=\"%s\" width=\"16\" height=\"12\" fill=\"%s\"/>",
                                SvgText.n(x), SvgText.n(y - 10), entry.colour());
                element(String.format(Locale.ROOT, "<g class=\"legend\">%s<text x=\"%s\" y=\"%s\">%s</text></g>", swatch,
                        SvgText.n(x + 22), SvgText.n(y), SvgText.escape(entry.label())));
                x += width;
            }
            this.plotTop = y + 22;
            double bottom = plotTop + PLOT_HEIGHT + below;
            if (caption != null) {
                element(String.format(Locale.ROOT,
                        "<text class=\"caption\" x=\"%d\" y=\"%s\" font-size=\"11\" fill=\"#666666\">%s</text>", LEFT,
                        SvgText.n(bottom), SvgText.escape(caption)));
                bottom += 8;
            }
            this.height = Math.ceil(bottom + 8);
        }

        double plotTop() {
            return plotTop;
        }

        double plotBottom() {
            return plotTop + PLOT_HEIGHT;
        }

        void element(String element) {
            body.append("  ").append(element).append('\n');
        }

        /** Grid lines, tick labels and the axis's name, rotated, on the left. */
        void valueAxis(SvgText.Ticks ticks, SvgText.Scale y, String name) {
            for (double tick : ticks.values()) {
                element(String.format(Locale.ROOT,
                        "<line class=\"grid\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#e4e4e4\"/>", LEFT,
                        SvgText.n(y.at(tick)), WIDTH - RIGHT, SvgText.n(y.at(tick))));
                element(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>",
                        LEFT - 8, SvgText.n(y.at(tick) + 4), ticks.label(tick)));
            }
            element(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#222222\"/>",
                    LEFT, SvgText.n(plotTop), LEFT, SvgText.n(plotBottom())));
            double middle = (plotTop + plotBottom()) / 2;
            element(String.format(Locale.ROOT,
                    "<text class=\"axis\" x=\"24\" y=\"%s\" text-anchor=\"middle\" transform=\"rotate(-90 24 %s)\">%s</text>",
                    SvgText.n(middle), SvgText.n(middle), SvgText.escape(name)));
        }

        void axisLine(double at) {
            element(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#222222\"/>",
                    LEFT, SvgText.n(at), WIDTH - RIGHT, SvgText.n(at)));
        }

        String finish() {
            return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    + String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%s\" "
                            + "viewBox=\"0 0 %d %s\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"%d\">%n",
                    WIDTH, SvgText.n(height), WIDTH, SvgText.n(height), FONT)
                    + "  <title>" + SvgText.escape(title) + "</title>\n"
                    + String.format(Locale.ROOT, "  <rect class=\"background\" width=\"%d\" height=\"%s\" fill=\"#ffffff\"/>%n",
                    WIDTH, SvgText.n(height))
                    + body
                    + "</svg>\n";
        }
    }

    private static double max(double... values) {
        double max = 0;
        for (double value : values) {
            if (!Double.isNaN(value)) {
                max = Math.max(max, value);
            }
        }
        return max;
    }

    private static String colour(int index) {
        return COLOURS[index % COLOURS.length];
    }
}
