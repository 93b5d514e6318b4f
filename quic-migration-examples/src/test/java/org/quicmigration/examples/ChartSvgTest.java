package org.quicmigration.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/** The SVG drawing itself: well-formed, one shape per value, proportional, escaped, the same bytes every time. */
class ChartSvgTest {

    private static SvgChart.BarChart barChart(String title, List<SvgChart.Bar> bars) {
        return new SvgChart.BarChart(title, "median of 3 runs", "stall, ms", bars, 1, null, null);
    }

    private static List<SvgChart.Bar> sixBars() {
        List<SvgChart.Bar> bars = new ArrayList<>();
        String[] groups = {"quic migrate, old network up", "quic NAT rebinding", "tcp+tls reconnect"};
        for (int g = 0; g < groups.length; g++) {
            bars.add(new SvgChart.Bar(groups[g], "no added delay", 5 + g, 4 + g, 9 + g, Double.NaN));
            bars.add(new SvgChart.Bar(groups[g], "25 ms added each way", 40 + 50 * g, 35 + 50 * g, 60 + 50 * g, Double.NaN));
        }
        return bars;
    }

    @Test
    void barChartHasABarAWhiskerAndAValueLabelForEveryBar() throws Exception {
        String svg = SvgChart.render(barChart("Handover stall by way", sixBars()));

        SvgDocument document = SvgDocument.parse(svg);

        assertThat(document.root().getLocalName()).as("root element").isEqualTo("svg");
        assertThat(document.root().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
        assertThat(document.withClass("bar")).as("bars").hasSize(6);
        assertThat(document.withClass("whisker")).as("whiskers").hasSize(6);
        assertThat(document.texts("value")).as("value labels, in drawing order")
                .containsExactly("5.0", "40.0", "6.0", "90.0", "7.0", "140.0");
        assertThat(document.texts("legend")).as("one legend entry per series")
                .containsExactly("no added delay", "25 ms added each way");
        assertThat(document.withClass("group")).as("one label per group").hasSize(3);
        assertThat(document.texts("title")).containsExactly("Handover stall by way");
        assertThat(document.withClass("reference")).as("no reference marks asked for").isEmpty();
    }

    @Test
    void aBarsHeightIsProportionalToItsValueAndItsWhiskerSpansItsRange() throws Exception {
        List<SvgChart.Bar> bars = List.of(new SvgChart.Bar("a", "s", 10, 5, 20, Double.NaN),
                new SvgChart.Bar("b", "s", 40, 30, 45, Double.NaN));

        SvgDocument document = SvgDocument.parse(SvgChart.render(barChart("proportions", bars)));

        List<Element> rects = document.withClass("bar");
        double small = SvgDocument.number(rects.get(0), "height");
        double large = SvgDocument.number(rects.get(1), "height");
        assertThat(large / small).as("height of the 40 bar over the 10 bar's").isCloseTo(4.0, within(0.01));
        double bottom = SvgDocument.number(rects.get(0), "y") + small;
        assertThat(SvgDocument.number(rects.get(1), "y") + large).as("both bars stand on the same axis")
                .isCloseTo(bottom, within(0.01));
        double pixelsPerUnit = small / 10;
        // the whisker path: M<x> <y of low>V<y of high>...
        String[] whisker = document.withClass("whisker").get(0).getAttribute("d").substring(1).split("[ VMH]");
        assertThat(Double.parseDouble(whisker[1])).as("whisker's low end at 5").isCloseTo(bottom - 5 * pixelsPerUnit, within(0.02));
        assertThat(Double.parseDouble(whisker[2])).as("whisker's high end at 20").isCloseTo(bottom - 20 * pixelsPerUnit, within(0.02));
    }

    @Test
    void textIsEscapedForXml() throws Exception {
        String label = "a <b> & \"c\" 'd'";
        List<SvgChart.Bar> bars = List.of(new SvgChart.Bar(label, "series & <more>", 3, Double.NaN, Double.NaN, Double.NaN));

        String svg = SvgChart.render(new SvgChart.BarChart("T <&> \"quoted\"", null, "y < 1", bars, 0, null, "caption & co"));

        assertThat(svg).contains("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;", "T &lt;&amp;&gt;")
                .doesNotContain("<b>", "& co");
        SvgDocument document = SvgDocument.parse(svg);
        assertThat(document.texts("title")).containsExactly("T <&> \"quoted\"");
        assertThat(document.texts("legend")).containsExactly("series & <more>");
        assertThat(document.texts("caption")).containsExactly("caption & co");
        assertThat(document.withClass("whisker")).as("no whisker without a range").isEmpty();
        assertThat(document.withClass("group").get(0).getElementsByTagName("tspan").item(0).getTextContent())
                .as("the group label's first line").startsWith("a <b>");
    }

    @Test
    void theSameChartGivesTheSameBytesWhateverTheDefaultLocale() {
        String first = SvgChart.render(barChart("same", sixBars()));
        Locale before = Locale.getDefault();
        String german;
        try {
            Locale.setDefault(Locale.GERMANY); // a decimal comma, if anything used the default locale
            german = SvgChart.render(barChart("same", sixBars()));
        } finally {
            Locale.setDefault(before);
        }

        assertThat(SvgChart.render(barChart("same", sixBars()))).as("drawn again").isEqualTo(first);
        assertThat(german).as("drawn under a German default locale").isEqualTo(first);
        assertThat(first).doesNotContainPattern("\\d,\\d");
    }

    @Test
    void referenceValuesAreDashedMarksNamedInTheLegend() throws Exception {
        List<SvgChart.Bar> bars = List.of(new SvgChart.Bar("every 1000 ms", "ours", 96, 90, 99, 90),
                new SvgChart.Bar("every 300 ms", "ours", 68, 60, 70, 66.7),
                new SvgChart.Bar("every 100 ms", "ours", 0, 0, 0, 0));

        SvgDocument document = SvgDocument.parse(SvgChart.render(new SvgChart.BarChart("goodput", null, "%", bars, 0,
                "RFC 9000 ceiling", null)));

        List<Element> marks = document.withClass("reference");
        assertThat(marks).as("one mark per bar with a reference").hasSize(3);
        Element bar = document.withClass("bar").get(0);
        double bottom = SvgDocument.number(bar, "y") + SvgDocument.number(bar, "height");
        double perUnit = SvgDocument.number(bar, "height") / 96;
        assertThat(SvgDocument.number(marks.get(1), "y1")).as("the 66.7 mark's height")
                .isCloseTo(bottom - 66.7 * perUnit, within(0.02));
        assertThat(SvgDocument.number(marks.get(2), "y1")).as("a 0 mark lies on the axis").isCloseTo(bottom, within(0.01));
        assertThat(document.texts("legend")).containsExactly("ours", "RFC 9000 ceiling");
        assertThat(document.texts("value")).containsExactly("96", "68", "0");
    }

    @Test
    void lineChartDrawsOneStepLinePerSeriesAndTheChangeMark() throws Exception {
        List<SvgChart.Line> lines = List.of(
                new SvgChart.Line("quic", new double[]{-50, 0, 40, 80}, new double[]{1.9, 2, 2, 6}),
                new SvgChart.Line("tcp", new double[]{-50, 0, 150, 300}, new double[]{1.9, 2, 2, 6}),
                new SvgChart.Line("nat & co", new double[]{-50, 10}, new double[]{1.9, 6}));

        String svg = SvgChart.render(new SvgChart.LineChart("Received", null, "ms from the change", "received, MiB",
                lines, 0, "change", null));

        SvgDocument document = SvgDocument.parse(svg);
        List<Element> paths = document.withClass("line");
        assertThat(paths).as("one path per line").hasSize(3);
        for (int i = 0; i < paths.size(); i++) {
            String d = paths.get(i).getAttribute("d");
            assertThat(d).as("a step line: moves, then horizontal and vertical segments only").matches("M[-\\d. ]+([HV][-\\d.]+)*");
            assertThat(d.chars().filter(c -> c == 'H').count()).as("one step per point after the first of line %d", i)
                    .isEqualTo(lines.get(i).x().length - 1);
        }
        assertThat(document.texts("legend")).containsExactly("quic", "tcp", "nat & co");
        assertThat(document.withClass("marker")).as("the change's mark").hasSize(1);
        assertThat(document.texts("marker-label")).containsExactly("change");
        assertThat(document.texts("axis")).contains("ms from the change", "received, MiB");
        assertThat(document.texts("tick")).as("x ticks from end to end of the lines").contains("-50", "0", "300");
        double changeX = SvgDocument.number(document.withClass("marker").get(0), "x1");
        String quic = paths.get(0).getAttribute("d");
        double quicAtChange = Double.parseDouble(quic.split("H")[1].split("V")[0]);
        assertThat(quicAtChange).as("the quic line's second point, at 0 ms, lies on the change's mark")
                .isCloseTo(changeX, within(0.01));
    }

    @Test
    void aLineNeedsAsManyXAsYValues() {
        assertThatThrownBy(() -> new SvgChart.Line("bad", new double[]{1, 2}, new double[]{1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad");
        assertThatThrownBy(() -> new SvgChart.Bar("g", "s", -1, Double.NaN, Double.NaN, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 or more");
    }
}
