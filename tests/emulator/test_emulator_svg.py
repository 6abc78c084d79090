"""The SVG sanitiser: hostile documents lose their active and external parts; drawings survive intact."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cfvariants.imaging import SVGError, looks_like_svg, sanitize_svg, svg_size

NS = "http://www.w3.org/2000/svg"
HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50">'

BENIGN = (
    HEAD + "<title>Logo</title>"
    "<defs><linearGradient id='g'><stop offset='0' stop-color='red'/><stop offset='1' stop-color='blue'/>"
    "</linearGradient><symbol id='dot'><circle cx='5' cy='5' r='4'/></symbol></defs>"
    "<style>.a { fill: url(#g); stroke: #333 } rect { opacity: .5 }</style>"
    "<rect class='a' x='1' y='2' width='30' height='20' fill='url(#g)' style='stroke-width:2'/>"
    "<use xlink:href='#dot' x='40'/>"
    "<path d='M0 0 L10 10 Z' data-name='corner' aria-label='corner'/>"
    "<text x='5' y='45' xml:space='preserve'>Hello &amp; welcome</text>"
    "<animate attributeName='opacity' from='0' to='1' dur='1s'/>"
    "</svg>"
)


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def all_attributes(root: ET.Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in root.iter():
        for name, value in element.attrib.items():
            found[f"{element.tag.split('}')[-1]}@{name}"] = value
    return found


def test_benign_drawing_is_kept_element_for_element() -> None:
    cleaned = parse(sanitize_svg(BENIGN.encode()))
    original = parse(BENIGN.encode())
    assert [e.tag for e in cleaned.iter()] == [e.tag for e in original.iter()]
    attrs = all_attributes(cleaned)
    assert attrs["rect@fill"] == "url(#g)"
    assert attrs["rect@style"] == "stroke-width:2"
    assert attrs["use@href"] == "#dot"  # xlink:href becomes href, still pointing at the symbol
    assert attrs["path@data-name"] == "corner" and attrs["path@aria-label"] == "corner"
    assert attrs["text@{http://www.w3.org/XML/1998/namespace}space"] == "preserve"
    text = cleaned.find(f"{{{NS}}}text")
    assert text is not None and text.text == "Hello & welcome"
    style = cleaned.find(f"{{{NS}}}style")
    assert style is not None and style.text is not None and "fill: url(#g)" in style.text


HOSTILE = {
    "script element": (HEAD + "<script>alert(1)</script><rect width='5' height='5'/></svg>", "alert"),
    "script in other case and namespace": (
        HEAD + "<html:script xmlns:html='http://www.w3.org/1999/xhtml'>alert(2)</html:script></svg>",
        "alert",
    ),
    "onload on root": (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(3)"><rect width="1" height="1"/></svg>',
        "alert",
    ),
    "upper-case handler": (HEAD + "<rect ONCLICK='alert(4)' width='1' height='1'/></svg>", "alert"),
    "javascript: link": (
        HEAD + "<a xlink:href='javascript:alert(5)'><rect width='1' height='1'/></a></svg>",
        "javascript",
    ),
    "entity-encoded javascript: link": (
        HEAD + "<a href='&#106;avascript:alert(6)'><rect width='1' height='1'/></a></svg>",
        "alert",
    ),
    "hyperlink to another site": (HEAD + "<a href='https://phish.example/'><text>x</text></a></svg>", "phish"),
    "external use": (HEAD + "<use href='https://evil.example/sprite.svg#icon'/></svg>", "evil"),
    "external image": (HEAD + "<image href='http://tracker.example/pixel.png' width='1' height='1'/></svg>", "tracker"),
    "relative image": (HEAD + "<image href='../secret.png' width='1' height='1'/></svg>", "secret"),
    "svg data url image": (
        HEAD + "<image href='data:image/svg+xml;base64,PHN2Zy8+' width='1' height='1'/></svg>",
        "data:image/svg",
    ),
    "feImage external": (HEAD + "<filter id='f'><feImage href='//evil.example/x.png'/></filter></svg>", "evil"),
    "foreignObject": (
        HEAD + "<foreignObject><iframe xmlns='http://www.w3.org/1999/xhtml' src='https://evil.example'/>"
        "</foreignObject></svg>",
        "evil",
    ),
    "style @import": (HEAD + "<style>@import url(https://evil.example/x.css); rect{fill:red}</style></svg>", "evil"),
    "style url()": (HEAD + "<style>rect { fill: url('http://evil.example/p.svg#x') }</style></svg>", "evil"),
    "escaped url in style": (HEAD + "<style>rect { background: u\\72l(http://evil.example/) }</style></svg>", "evil"),
    "style attribute url": (
        HEAD + "<rect style='fill:url(http://evil.example/a#b)' width='1' height='1'/></svg>",
        "evil",
    ),
    "presentation attribute url": (HEAD + "<rect fill='url(//evil.example/a#b)' width='1' height='1'/></svg>", "evil"),
    "animated href": (
        HEAD + "<a><set attributeName='href' to='javascript:alert(7)'/><text>x</text></a></svg>",
        "javascript",
    ),
    "animated xlink:href": (
        HEAD + "<a><animate attributeName='xlink:href' values='javascript:alert(8)'/><text>x</text></a></svg>",
        "javascript",
    ),
    "xml-stylesheet processing instruction": (
        '<?xml-stylesheet href="https://evil.example/x.xsl" type="text/xsl"?>' + HEAD + "</svg>",
        "evil",
    ),
    "xml:base": (HEAD + "<g xml:base='https://evil.example/'><use href='#a'/></g></svg>", "evil"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_parts_are_removed(name: str) -> None:
    document, marker = HOSTILE[name]
    cleaned = sanitize_svg(document.encode())
    assert marker.encode() not in cleaned
    root = parse(cleaned)  # still well-formed SVG
    assert root.tag == f"{{{NS}}}svg"
    tags = {e.tag.split("}")[-1] for e in root.iter()}
    assert not tags & {"script", "foreignObject", "iframe", "set"}
    for key in all_attributes(root):
        assert not key.split("@")[1].lower().startswith("on")


def test_hostile_document_keeps_its_harmless_shapes() -> None:
    cleaned = parse(sanitize_svg(HOSTILE["script element"][0].encode()))
    assert cleaned.find(f"{{{NS}}}rect") is not None


def test_inline_raster_images_are_allowed() -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    cleaned = parse(sanitize_svg((HEAD + f"<image href='{pixel}' width='1' height='1'/></svg>").encode()))
    image = cleaned.find(f"{{{NS}}}image")
    assert image is not None and image.get("href") == pixel


ENTITY_ATTACKS = {
    "billion laughs": (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>'
    ),
    "external entity (XXE)": (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'
    ),
    "parameter entity": (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd">%remote;]>'
        '<svg xmlns="http://www.w3.org/2000/svg"/>'
    ),
    "undeclared entity behind an external DTD": (
        '<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg xmlns="http://www.w3.org/2000/svg">'
        "<text>&secret;</text></svg>"
    ),
}


@pytest.mark.parametrize("name", sorted(ENTITY_ATTACKS))
def test_entity_tricks_are_refused(name: str) -> None:
    with pytest.raises(SVGError) as caught:
        sanitize_svg(ENTITY_ATTACKS[name].encode())
    assert "entit" in str(caught.value) or "DOCTYPE" in str(caught.value)


def test_plain_doctype_from_an_editor_is_accepted_and_dropped() -> None:
    document = (
        '<?xml version="1.0" standalone="no"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 20"><rect width="1" height="1"/></svg>'
    )
    cleaned = sanitize_svg(document.encode())
    assert b"DOCTYPE" not in cleaned
    assert svg_size(cleaned) == (10, 20)


@pytest.mark.parametrize(
    "document",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
        b"<html><body>no</body></html>",
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g>" * 300 + b"</g>" * 300 + b"</svg>",
    ],
    ids=["not well-formed", "html root", "empty", "too deep"],
)
def test_unusable_documents_are_refused(document: bytes) -> None:
    with pytest.raises(SVGError):
        sanitize_svg(document)


def test_svg_without_namespace_is_given_one() -> None:
    cleaned = sanitize_svg(b"<svg width='4' height='3'><rect width='1' height='1'/><script>x()</script></svg>")
    root = parse(cleaned)
    assert root.tag == f"{{{NS}}}svg" and root.find(f"{{{NS}}}rect") is not None
    assert b"script" not in cleaned


def test_sanitising_is_idempotent() -> None:
    once = sanitize_svg(BENIGN.encode())
    assert sanitize_svg(once) == once
    hostile = sanitize_svg(HOSTILE["style @import"][0].encode())
    assert sanitize_svg(hostile) == hostile


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="120" height="80"', (120, 80)),
        ('width="1in" height="72pt"', (96, 96)),
        ('viewBox="0 0 300 150"', (300, 150)),
        ('width="600" viewBox="0 0 300 150"', (600, 300)),
        ('width="100%" height="100%"', (0, 0)),
    ],
)
def test_size_from_attributes_or_viewbox(attributes: str, size: tuple[int, int]) -> None:
    assert svg_size(f'<svg xmlns="http://www.w3.org/2000/svg" {attributes}/>'.encode()) == size


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", True),
        (b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- made by hand -->\n<svg/>", True),
        (b"<!DOCTYPE svg [<!ENTITY a 'b'>]><svg/>", True),
        (b"<!DOCTYPE html><html></html>", False),
        (b"just text mentioning <svg>", False),
    ],
)
def test_sniffing(data: bytes, expected: bool) -> None:
    assert looks_like_svg(data) is expected


@pytest.mark.parametrize(
    ("document", "found"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>', "event handler (onload"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script> element"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>', "<foreignObject>"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<use xlink:href="https://evil.example/x.svg#a"/></svg>',
            "external reference (https://evil.example/x.svg#a)",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
            "javascript:",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(//x/y.css);</style></svg>', "unsafe CSS"),
    ],
)
def test_active_content_names_what_would_be_removed(document: bytes, found: str) -> None:
    from cfvariants.imaging import active_content

    assert any(found in item for item in active_content(document)), active_content(document)


def test_a_plain_drawing_has_no_active_content() -> None:
    from cfvariants.imaging import active_content

    drawing = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
        b'<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
        b'<rect width="10" height="10" fill="url(#g)" style="stroke:blue"/><use xlink:href="#g"/>'
        b"<metadata>made by an editor</metadata></svg>"
    )
    assert active_content(drawing) == []
