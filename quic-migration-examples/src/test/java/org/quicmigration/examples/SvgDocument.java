package org.quicmigration.examples;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Test helper: an SVG text parsed as XML by the JDK (which fails on anything not well-formed), and its elements. */
final class SvgDocument {

    private final Document document;

    private SvgDocument(Document document) {
        this.document = document;
    }

    static SvgDocument parse(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder builder = factory.newDocumentBuilder();
        builder.setErrorHandler(null);
        return new SvgDocument(builder.parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8))));
    }

    Element root() {
        return document.getDocumentElement();
    }

    /** The elements whose class attribute is {@code name}, in document order. */
    List<Element> withClass(String name) {
        List<Element> found = new ArrayList<>();
        NodeList all = document.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element element = (Element) all.item(i);
            if (element.getAttribute("class").equals(name)) {
                found.add(element);
            }
        }
        return found;
    }

    /** The text of the elements whose class attribute is {@code name}. */
    List<String> texts(String name) {
        return withClass(name).stream().map(Element::getTextContent).toList();
    }

    static double number(Element element, String attribute) {
        return Double.parseDouble(element.getAttribute(attribute));
    }
}
