"""Links in a FHIR narrative: a document's author may point the reader to another site by an absolute
https, http or mailto URL, or within the document; never to a host hidden behind a relative form."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phr.records.documents import clean_narrative

LEAVING_THE_SITE_UNSEEN = [
    "//evil.example/x",
    "  //evil.example/x",
    "\t//evil.example/x",
    "/\t/evil.example/x",
    "&#x2F;&#x2F;evil.example/x",
    "\\\\evil.example/x",
    "/\\evil.example/x",
    "https:evil.example",
    "/accounts/logout/",
    "../people/",
    "?next=//evil.example",
]
OTHER_SCHEMES = ["javascript:alert(1)", "java&#x09;script:alert(1)", "data:text/html,<b>x</b>", "ftp://evil.example/"]


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


@pytest.mark.parametrize("href", LEAVING_THE_SITE_UNSEEN + OTHER_SCHEMES)
def test_a_link_without_a_scheme_and_host_of_its_own_loses_its_target_but_keeps_its_words(href: str) -> None:
    cleaned = clean_narrative(f'<p>See <a href="{href}" title="referral">the letter</a>.</p>')

    assert _hrefs(cleaned) == []
    assert "the letter" in cleaned and 'title="referral"' in cleaned


@pytest.mark.parametrize(
    "href",
    [
        "https://hospital.example/letters/1",
        "http://clinic.example/",
        "HTTPS://hospital.example/",
        "mailto:dr@clinic.example",
    ],
)
def test_absolute_https_http_and_mailto_links_are_kept(href: str) -> None:
    cleaned = clean_narrative(f'<a href="{href}">the hospital</a>')

    assert _hrefs(cleaned) == [href]
    assert 'rel="noopener noreferrer nofollow"' in cleaned


def test_a_jump_to_a_section_of_the_same_document_is_kept() -> None:
    assert _hrefs(clean_narrative('<a href="#allergies">Allergies</a>')) == ["#allergies"]


@given(st.text(alphabet="/\\ \t\n\r.:#?@aehilmopstvx0", max_size=24))
def test_every_surviving_link_is_absolute_or_a_jump_within_the_document(href: str) -> None:
    cleaned = clean_narrative(f"<a href='{href}'>x</a>")

    for kept in _hrefs(cleaned):
        assert kept.startswith("#") or re.match(r"(?i)(https?://|mailto:)", kept), kept
