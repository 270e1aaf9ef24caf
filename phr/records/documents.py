"""Documents as a person reads them: referral letters, discharge summaries and health-check reports,
rendered from their Composition sections (紹介状: referral letter, 退院時サマリー: discharge summary,
健診結果報告書: health-check report).

FHIR narrative is XHTML written by someone else's software, so it is cleaned with nh3 (an allow-list of
tags and attributes, no script, no event handler, no style, links only to absolute http(s) and mailto URLs)
before it reaches a template; nothing else from a resource is ever marked safe.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "b", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}
DOCUMENT_TYPES = {"57133-1": "referral", "18842-5": "discharge", "53576-5": "health_check"}
MAX_SECTION_DEPTH = 4
LINK_SCHEMES = {"http", "https", "mailto"}
# What browsers ignore around a URL (C0 controls and space) and inside it (tab and newlines): a URL is judged
# as the browser will read it.
_URL_TRIMMED = "".join(chr(code) for code in range(0x21))
_URL_DROPPED = str.maketrans("", "", "\t\n\r")


def _keep_link(element: str, attribute: str, value: str) -> str | None:
    """An ``href`` survives only as an absolute http(s) URL with a host, a mailto address, or a jump within
    the narrative (``#section``).

    A protocol-relative link (``//evil.example/x``; browsers also read ``\\\\evil.example`` and
    ``/\\evil.example`` that way) carries no scheme for the allow-list to refuse, yet leaves the site; a
    path, or ``https:path`` without a host, sends the reader to a page of Mamori chosen by the author.
    """
    if attribute != "href":
        return value
    url = value.strip(_URL_TRIMMED).translate(_URL_DROPPED)
    if url.startswith("#"):
        return url
    scheme = urlsplit(url).scheme.lower()
    if scheme == "mailto" or (scheme in {"http", "https"} and url[len(scheme) + 1 :].startswith("//")):
        return url
    return None


def clean_narrative(xhtml: str) -> SafeString:
    """XHTML narrative made safe to show: only allow-listed tags and attributes survive."""
    cleaned = nh3.clean(
        xhtml,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        attribute_filter=_keep_link,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just removed everything outside the allow-list


@dataclass
class Section:
    """One section of a document: its title, its cleaned narrative and its sub-sections."""

    title: str
    narrative: SafeString
    sections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    title: str
    kind: str
    status: str
    author: str
    narrative: SafeString
    sections: list[Section]
    attachments: list[Attachment]


@dataclass
class Attachment:
    title: str
    content_type: str
    text: str


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _narrative(element: dict[str, Any]) -> SafeString:
    text = element.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    return clean_narrative(div) if isinstance(div, str) else mark_safe("")


def _sections(raw: Any, depth: int = 0) -> list[Section]:
    if not isinstance(raw, list) or depth >= MAX_SECTION_DEPTH:
        return []
    sections = []
    for section in raw:
        if not isinstance(section, dict):
            continue
        code = _mapping(section.get("code"))
        title = (
            section.get("title")
            or code.get("text")
            or next((c.get("display") for c in code.get("coding", []) if isinstance(c, dict) and c.get("display")), "")
        )
        sections.append(
            Section(
                title=str(title),
                narrative=_narrative(section),
                sections=_sections(section.get("section"), depth + 1),
            )
        )
    return sections


def _kind(resource: dict[str, Any]) -> str:
    concept = _mapping(resource.get("type"))
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict) and coding.get("code") in DOCUMENT_TYPES:
            return DOCUMENT_TYPES[str(coding["code"])]
    return ""


def _attachments(resource: dict[str, Any]) -> list[Attachment]:
    found = []
    for content in resource.get("content") or ():
        attachment = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(attachment, dict):
            continue
        content_type = str(attachment.get("contentType") or "")
        text = ""
        if content_type.startswith("text/plain") and isinstance(attachment.get("data"), str):
            try:
                text = base64.b64decode(attachment["data"], validate=True).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                text = ""
        found.append(Attachment(title=str(attachment.get("title") or ""), content_type=content_type, text=text))
    return found


def document_from(resource: dict[str, Any], *, fallback_title: str = "") -> Document:
    """What to show of a Composition or DocumentReference."""
    authors = [str(a.get("display")) for a in resource.get("author") or () if isinstance(a, dict) and a.get("display")]
    title = resource.get("title") or resource.get("description") or fallback_title
    return Document(
        title=str(title),
        kind=_kind(resource),
        status=str(resource.get("status") or ""),
        author=", ".join(authors),
        narrative=_narrative(resource),
        sections=_sections(resource.get("section")),
        attachments=_attachments(resource),
    )
