"""Readers for the values of the DUO wire form, each reporting problems at a JSON Pointer (RFC 6901).

A reader returns the parsed value, or None after recording why it could not; parsing goes on, so a
caller gets every problem in one answer. Messages come in Japanese and English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from consent.duo.icd10 import DiseaseCodeError, normalise
from consent.duo.results import Language

MAX_ITEMS = 500
MAX_TEXT = 200
MAX_MONTHS = 1200

# ASCII digits only, matched whole: \d and $ would let full-width digits and a trailing newline through.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
_MONTHS = re.compile(r"P(?:([0-9]{1,4})Y)?(?:([0-9]{1,5})M)?")


@dataclass(frozen=True, slots=True)
class WireProblem:
    """One thing wrong with the input: where (a JSON Pointer) and what, in Japanese and English."""

    pointer: str
    message_ja: str
    message_en: str

    def message(self, language: Language) -> str:
        return self.message_en if language == "en" else self.message_ja


@dataclass
class Problems:
    """The problems found so far while reading one document."""

    items: list[WireProblem] = field(default_factory=list)

    def add(self, pointer: str, message_ja: str, message_en: str) -> None:
        self.items.append(WireProblem(pointer, message_ja, message_en))


def child(pointer: str, key: str | int) -> str:
    """The pointer to ``key`` inside ``pointer``, escaped as RFC 6901 requires."""
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def read_object(
    value: object, pointer: str, problems: Problems, *, required: Iterable[str], optional: Iterable[str]
) -> Mapping[str, object] | None:
    """A JSON object with only the known keys and every required one."""
    if not isinstance(value, dict):
        problems.add(pointer, "JSONのオブジェクト {…} で指定してください。", "Must be a JSON object.")
        return None
    required = frozenset(required)
    known = required | frozenset(optional)
    for key in value:
        if key not in known:
            problems.add(
                child(pointer, key),
                f"「{key}」という項目はありません。使える項目: {', '.join(sorted(known))}",
                f"Unknown field {key!r}; the fields are: {', '.join(sorted(known))}.",
            )
    for key in sorted(required - value.keys()):
        problems.add(child(pointer, key), "必須の項目です。", "This field is required.")
    return value


def read_bool(value: object, pointer: str, problems: Problems) -> bool | None:
    if isinstance(value, bool):
        return value
    problems.add(pointer, "true か false で指定してください。", "Must be true or false.")
    return None


def read_date(value: object, pointer: str, problems: Problems) -> date | None:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(pointer, "日付を YYYY-MM-DD の形で指定してください。", "Must be a calendar date written YYYY-MM-DD.")
    return None


def read_text(value: object, pointer: str, problems: Problems) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT:
        return value.strip()
    problems.add(
        pointer,
        f"{MAX_TEXT}文字以内の空でない文字列で指定してください。",
        f"Must be a non-empty string of at most {MAX_TEXT} characters.",
    )
    return None


def read_optional_text(value: object, pointer: str, problems: Problems) -> str | None:
    return None if value is None else read_text(value, pointer, problems)


def read_list(value: object, pointer: str, problems: Problems) -> list[object] | None:
    if isinstance(value, list) and len(value) <= MAX_ITEMS:
        return value
    problems.add(
        pointer,
        f"{MAX_ITEMS}件以内の配列で指定してください。",
        f"Must be a list of at most {MAX_ITEMS} items.",
    )
    return None


def read_texts(value: object, pointer: str, problems: Problems) -> frozenset[str] | None:
    """Non-empty strings, each once; None if any is not one."""
    items = read_list(value, pointer, problems)
    if items is None:
        return None
    texts = [read_text(item, child(pointer, index), problems) for index, item in enumerate(items)]
    return None if None in texts else frozenset(text for text in texts if text is not None)


def read_regions(value: object, pointer: str, problems: Problems) -> frozenset[str] | None:
    """ISO 3166-1 alpha-2 country codes (``JP``) or ISO 3166-2 subdivisions (``JP-13``); None if any is invalid."""
    items = read_list(value, pointer, problems)
    if items is None:
        return None
    regions = set()
    valid = True
    for index, item in enumerate(items):
        region = item.strip().upper() if isinstance(item, str) else ""
        if _REGION.fullmatch(region):
            regions.add(region)
        else:
            problems.add(
                child(pointer, index),
                "地域は JP や JP-13 のような ISO 3166 のコードで指定してください。",
                "A region must be an ISO 3166 code such as JP or JP-13.",
            )
            valid = False
    return frozenset(regions) if valid else None


def read_diseases(value: object, pointer: str, problems: Problems) -> tuple[str, ...] | None:
    """ICD-10 codes, blocks or chapters in canonical form, each once, sorted; None if any is invalid."""
    items = read_list(value, pointer, problems)
    if items is None:
        return None
    codes = set()
    valid = True
    for index, item in enumerate(items):
        try:
            if not isinstance(item, str):
                raise DiseaseCodeError(repr(item))
            codes.add(normalise(item))
        except DiseaseCodeError as error:
            problems.add(
                child(pointer, index),
                f"「{error.text}」はICD-10のコード・ブロック・章ではありません。"
                "C34、C34.1、C30-C39、II のように指定してください。",
                str(error) + ".",
            )
            valid = False
    return tuple(sorted(codes)) if valid else None


def read_months(value: object, pointer: str, problems: Problems) -> int | None:
    """A whole number of months, or an ISO 8601 duration in years and months (``P2Y``, ``P18M``)."""
    months: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        months = value
    elif isinstance(value, str) and (found := _MONTHS.fullmatch(value.strip().upper())) and any(found.groups()):
        months = int(found.group(1) or 0) * 12 + int(found.group(2) or 0)
    if months is not None and 1 <= months <= MAX_MONTHS:
        return months
    problems.add(
        pointer,
        f"期間は24のような1から{MAX_MONTHS}までの月数か、P2Y・P18M のような形で指定してください。",
        f"Must be a number of months from 1 to {MAX_MONTHS} (such as 24) or a duration such as P2Y or P18M.",
    )
    return None
