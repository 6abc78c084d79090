"""An SVG sanitiser in the spirit of Cloudflare's ``svg-hush``: the drawing stays, active and external content goes.

Cloudflare stores and serves SVG files only after filtering them (with svg-hush): no scripting, no hyperlinks to
other documents, no references to cross-origin resources. This module does the same with the standard library
only, by parsing the document with expat and writing back an allow-listed tree:

* kept: SVG-namespace drawing elements (shapes, paths, text, gradients, patterns, masks, filters, ``use``,
  SMIL animation of ordinary attributes) and their presentation attributes, ``data-*``/``aria-*``, ``xml:space``
  and ``xml:lang``;
* dropped with their whole subtree: ``<script>``, ``<foreignObject>``, elements of any other namespace (XHTML,
  editor metadata), anything not on the list; comments and processing instructions (``<?xml-stylesheet?>`` could
  load an external style sheet);
* dropped attributes: event handlers (``on*``), attributes of other namespaces (``xml:base`` too), ``href`` on
  ``<a>`` (hyperlinks) and every ``href``/``xlink:href`` that is not a same-document ``#fragment`` (images may also
  use an inline ``data:image/png|jpeg|gif|webp|avif`` URL); ``xlink:href`` is rewritten as plain ``href``;
* CSS (``<style>`` and ``style=""``) and ``url(...)`` values in attributes: ``@import`` rules, declarations with
  backslash escapes, ``expression(``, ``image-set(`` and ``javascript:`` are removed, and every ``url()`` that is not
  ``url(#fragment)`` becomes ``url(#)`` (a reference to nothing);
* animations (``<set>``, ``<animate>``...) that target ``href``, ``style`` or an event handler are dropped, since
  they could create what the filter removed.

XML safety: the parser never fetches anything (expat does not load external entities; any external-entity
reference is refused), and a document type with an internal subset — the only place entities can be declared, so
the only way to an entity-expansion ("billion laughs") or XXE attack — is refused outright. A plain
``<!DOCTYPE svg PUBLIC ...>`` line, as editors write it, is accepted and dropped. Depth and element count are
bounded.

Stricter than svg-hush on one point, by choice: relative URLs (``href="photo.png"``) are removed too, because an
image stored in Cloudflare Images has no same-origin files next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

from cfvariants._errors import CFVariantsError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_DEPTH = 256
MAX_ELEMENTS = 200_000

_ALLOWED_ELEMENTS = frozenset(
    {
        "a", "animate", "animateColor", "animateMotion", "animateTransform", "circle", "clipPath", "defs",
        "desc", "ellipse", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
        "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA",
        "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology",
        "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence", "filter", "g",
        "image", "line", "linearGradient", "marker", "mask", "mpath", "path", "pattern", "polygon", "polyline",
        "radialGradient", "rect", "set", "stop", "style", "svg", "switch", "symbol", "text", "textPath", "title",
        "tref", "tspan", "use", "view",
    }
)  # fmt: skip
_ANIMATIONS = frozenset({"animate", "animateColor", "set", "animateTransform", "animateMotion"})
# Elements whose href is a same-document reference (gradient/pattern/filter inheritance, use, text paths) or an
# image; <a> is deliberately absent: hyperlinks to other documents are removed.
_HREF_ELEMENTS = frozenset(
    {"use", "image", "feImage", "linearGradient", "radialGradient", "pattern", "textPath", "mpath", "filter", "tref"}
)
_IMAGE_ELEMENTS = frozenset({"image", "feImage"})
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|jpg|gif|webp|avif)(?:;[a-z0-9=._+-]*)*,[A-Za-z0-9+/=%._~\s-]*")
_FRAGMENT = re.compile(r"#[A-Za-z_][A-Za-z0-9_.:-]*")
_URL_FUNC = re.compile(r"url\(\s*(\"[^\"]*\"|'[^']*'|[^)\"']*)\s*\)", re.IGNORECASE)
_CSS_CHUNK = re.compile(r"[^;{}]*[;{}]?")
_CSS_FORBIDDEN = ("\\", "@import", "expression(", "image-set(", "javascript:", "url(")
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in|)\s*")
_UNIT_PX = {"": 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}
_SNIFF = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"(?:<!DOCTYPE\s+(?:\w+:)?svg(?:[^>\[]*\[.*?\])?[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:\w+:)?svg[\s>/]",
    re.S,
)


class SVGError(CFVariantsError, ValueError):
    """The document cannot be made into a safe SVG: not well-formed XML, not SVG, or uses entity declarations."""


@dataclass
class _Node:
    ns: str | None
    name: str
    attrs: list[tuple[str | None, str, str]]
    children: list[_Node | str] = field(default_factory=list)


def looks_like_svg(data: bytes) -> bool:
    """Cheap sniff: the first element of the document is ``<svg`` (after an XML declaration, comments, DOCTYPE)."""
    return _SNIFF.match(data[:4096]) is not None


def sanitize_svg(data: bytes) -> bytes:
    """Return a safe UTF-8 SVG with the same drawing, or raise ``SVGError`` saying why the input is refused."""
    root = _parse(data)
    no_namespace = root.ns is None
    if root.name != "svg" or root.ns not in (SVG_NS, None):
        raise SVGError(f"the root element is <{root.name}>, not <svg>: this is not an SVG image")
    out: list[str] = []
    _write(root, out, no_namespace, is_root=True)
    return "".join(out).encode("utf-8")


def active_content(data: bytes) -> list[str]:
    """What ``sanitize_svg`` would remove because it can run code or fetch from elsewhere (scripts, event
    handlers, embedded documents, external references, unsafe CSS), described for a person; empty when the
    document is only a drawing. Editor metadata and unknown-but-inert elements are not reported. An app that
    prefers refusing such a file to storing a silently changed one uses this."""
    found: list[str] = []
    _collect_active(_parse(data), found)
    return list(dict.fromkeys(found))


_EMBEDDING = frozenset({"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"})


def _collect_active(node: _Node, found: list[str]) -> None:
    if node.name in _EMBEDDING:
        found.append(f"a <{node.name}> element")
        return
    for ns, name, value in node.attrs:
        lowered = value.strip().lower()
        if ns is None and name.lower().startswith("on"):
            found.append(f"an event handler ({name}=...)")
        elif name == "href" and ns in (None, XLINK_NS) and (ns == XLINK_NS or node.ns in (SVG_NS, None)):
            if lowered.startswith("javascript:"):
                found.append("a javascript: link")
            elif _filter_href(node.name, value) is None and node.name != "a":
                found.append(f"an external reference ({value.strip()[:60]})")
            elif node.name == "a" and not _FRAGMENT.fullmatch(value.strip()):
                found.append(f"a link to another document ({value.strip()[:60]})")
        elif (name == "style" or "url(" in lowered or "javascript:" in lowered) and filter_css(value) != value:
            found.append(f"unsafe CSS in {name}=...")
    if node.name == "style":
        css = "".join(child for child in node.children if isinstance(child, str))
        if filter_css(css) != css:
            found.append("unsafe CSS in <style> (@import, url() to elsewhere, or script)")
    for child in node.children:
        if not isinstance(child, str):
            _collect_active(child, found)


def svg_size(data: bytes) -> tuple[int, int]:
    """Pixel size from the root's ``width``/``height`` (absolute units converted at 96 dpi), falling back to the
    ``viewBox``; 0 where it cannot be known (percentages, no viewBox)."""
    root = _parse(data)
    attrs = {name: value for ns, name, value in root.attrs if ns is None}
    width, height = _length(attrs.get("width")), _length(attrs.get("height"))
    box = _viewbox(attrs.get("viewBox"))
    if box is not None:
        if width is None and height is None:
            width, height = box
        elif width is None and height is not None and box[1] > 0:
            width = height * box[0] / box[1]
        elif height is None and width is not None and box[0] > 0:
            height = width * box[1] / box[0]
    return (
        round(_usable(width or 0, "width from the viewBox")),
        round(_usable(height or 0, "height from the viewBox")),
    )


# ---------------------------------------------------------------------------------------------------------------
# Parsing


def _parse(data: bytes) -> _Node:
    parser = expat.ParserCreate(namespace_separator="\x01")
    parser.ordered_attributes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node] = []
    roots: list[_Node] = []
    count = 0

    def split(qname: str) -> tuple[str | None, str]:
        ns, sep, local = qname.rpartition("\x01")
        return (ns if sep else None), local

    def start(qname: str, attributes: list[str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise SVGError(f"the SVG has more than {MAX_ELEMENTS} elements")
        if len(stack) >= MAX_DEPTH:
            raise SVGError(f"the SVG nests elements more than {MAX_DEPTH} deep")
        ns, local = split(qname)
        attrs = [(*split(attributes[i]), attributes[i + 1]) for i in range(0, len(attributes), 2)]
        node = _Node(ns, local, attrs)
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)

    def end(_qname: str) -> None:
        stack.pop()

    def text(chars: str) -> None:
        if stack:
            children = stack[-1].children
            if children and isinstance(children[-1], str):
                children[-1] += chars
            else:
                children.append(chars)

    def doctype(_name: str, _system: str | None, _public: str | None, has_internal_subset: int) -> None:
        if has_internal_subset:
            raise SVGError(
                "the SVG declares a DOCTYPE internal subset (entity declarations are refused: XXE/expansion)"
            )

    def entity_decl(name: str, *_args: object) -> None:
        raise SVGError(f"the SVG declares the entity {name!r} (entity declarations are refused: XXE/expansion)")

    def refuse_external(*_args: object) -> int:
        raise SVGError("the SVG references an external entity (refused: XXE)")

    def skipped(name: str, _is_parameter: int) -> None:
        raise SVGError(f"the SVG uses the undeclared entity &{name};")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = refuse_external
    parser.SkippedEntityHandler = skipped
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise SVGError(f"the SVG is not well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno})") from None
    except RecursionError:  # pragma: no cover - depth is bounded above
        raise SVGError("the SVG nests elements too deeply") from None
    if not roots:
        raise SVGError("the document has no root element")
    return roots[0]


# ---------------------------------------------------------------------------------------------------------------
# Filtering and writing


def _write(node: _Node, out: list[str], no_namespace: bool, *, is_root: bool = False) -> None:
    attrs = _filter_attributes(node)
    out.append(f"<{node.name}")
    if is_root:
        out.append(f' xmlns="{SVG_NS}"')
    for name, value in attrs:
        out.append(f' {name}="{_escape_attr(value)}"')
    children = [child for child in node.children if isinstance(child, str) or _allowed(child, no_namespace)]
    if not children:
        out.append("/>")
        return
    out.append(">")
    if node.name == "style":
        css = "".join(child for child in children if isinstance(child, str))
        out.append(_escape_text(filter_css(css)))
    else:
        for child in children:
            if isinstance(child, str):
                out.append(_escape_text(child))
            else:
                _write(child, out, no_namespace)
    out.append(f"</{node.name}>")


def _allowed(node: _Node, no_namespace: bool) -> bool:
    if node.ns != SVG_NS and not (no_namespace and node.ns is None):
        return False
    if node.name not in _ALLOWED_ELEMENTS:
        return False
    if node.name in _ANIMATIONS:
        for ns, name, value in node.attrs:
            if ns is None and name == "attributeName":
                target = value.strip().rpartition(":")[2].lower()
                if target in ("href", "style", "attributename") or target.startswith("on"):
                    return False
    return True


def _filter_attributes(node: _Node) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for ns, name, value in node.attrs:
        out_name: str | None
        if ns is None:
            out_name = name
        elif ns == XLINK_NS and name == "href":
            out_name = "href"
        elif ns == XML_NS and name in ("space", "lang"):
            out_name = f"xml:{name}"
        else:
            out_name = None
        if out_name is None or out_name in seen or out_name.lower().startswith("on"):
            continue
        if out_name == "href":
            cleaned = _filter_href(node.name, value)
        elif out_name == "style":
            cleaned = filter_css(value)
        elif "url(" in value.lower() or "javascript:" in value.lower():
            cleaned = _filter_css_chunk(value)
        else:
            cleaned = value
        if cleaned is None:
            continue
        seen.add(out_name)
        kept.append((out_name, cleaned))
    return kept


def _filter_href(element: str, value: str) -> str | None:
    if element not in _HREF_ELEMENTS:
        return None
    stripped = value.strip()
    if _FRAGMENT.fullmatch(stripped):
        return stripped
    if element in _IMAGE_ELEMENTS and _DATA_IMAGE.fullmatch(stripped):
        return stripped
    return None


def filter_css(css: str) -> str:
    """Remove from CSS everything that could run code or fetch from elsewhere; keep the rest of the style."""
    out: list[str] = []
    for chunk in _CSS_CHUNK.findall(css):
        if not chunk:
            continue
        cleaned = _filter_css_chunk(chunk)
        if cleaned is None:
            if chunk[-1] in "{}":
                out.append(chunk[-1])
            continue
        out.append(cleaned)
    return "".join(out)


def _filter_css_chunk(chunk: str) -> str | None:
    """One declaration (or attribute value): ``url()`` values rewritten; ``None`` if the chunk must go."""

    def replace(match: re.Match[str]) -> str:
        target = match.group(1).strip().strip("\"'").strip()
        return f"url({target})" if _FRAGMENT.fullmatch(target) else "url(#)"

    rewritten = _URL_FUNC.sub(replace, chunk)
    residue = _URL_FUNC.sub("", rewritten).lower()
    if any(bad in residue for bad in _CSS_FORBIDDEN):
        return None
    return rewritten


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


MAX_LENGTH = 1e9  # px: past this (or 1e999, which is infinity) a size is not a drawing's, it is an attack


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.fullmatch(value)
    if not match:
        return None
    return _usable(float(match.group(1)) * _UNIT_PX[match.group(2)], value)


def _viewbox(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(",", " ").split()
    if len(parts) != 4:
        return None
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    for number in numbers:
        _usable(abs(number), f"viewBox {value[:60]!r}")
    width, height = numbers[2], numbers[3]
    return (width, height) if width > 0 and height > 0 else None


def _usable(number: float, shown: str) -> float:
    """``number`` when it is a finite size below ``MAX_LENGTH``; else ``SVGError`` (``round(inf)`` would raise)."""
    if not number < MAX_LENGTH:  # also true for NaN
        raise SVGError(f"the size {shown[:60]!r} is not a finite length below {MAX_LENGTH:.0f} px")
    return number
