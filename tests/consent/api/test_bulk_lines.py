"""Lines of a bulk check: the plain-line shortcut reads every line exactly as the general CSV path does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.bulk.identifiers import InvalidIdentifier
from consent.bulk.lines import LineParser, blind_indexes, parse_line
from phr.crypto.blind_index import blind_index

SYSTEM = "urn:example:hospital:patient-number"
LINKAGE = "urn:example:linkage"
ACCEPTED = frozenset({SYSTEM, LINKAGE})


def general(raw: bytes, fmt: str = "csv") -> tuple[str, str] | str:
    try:
        ref = parse_line(raw, fmt, ACCEPTED)
    except InvalidIdentifier as error:
        return str(error)
    return ref.system, ref.value


def parsed(raw: bytes, fmt: str = "csv") -> tuple[str, str] | str:
    pairs, problems = LineParser(fmt, ACCEPTED).parse([raw])
    return pairs[0] or problems[0]


values = st.text(alphabet=st.sampled_from('AZaz09-_.|,"\\ \t０１Ｐ－é\x00'), max_size=12)
lines = st.builds(
    lambda system, sep, value, pad: f"{pad}{system}{sep}{value}{pad}",
    st.sampled_from([SYSTEM, LINKAGE, "urn:other", "", '"' + SYSTEM + '"']),
    st.sampled_from([",", "|", ", ", ",,"]),
    values,
    st.sampled_from(["", " ", "\ufeff"]),
)


@settings(max_examples=400, deadline=None)
@given(lines)
def test_every_line_reads_as_the_general_path_reads_it(line: str) -> None:
    raw = line.encode()
    assert parsed(raw) == general(raw)


def test_plain_lines_take_the_shortcut_and_others_do_not_lose_their_meaning() -> None:
    assert parsed(f"{SYSTEM},P-0001".encode()) == (SYSTEM, "P-0001")
    assert parsed(f"{SYSTEM},Ｐ－０００１".encode()) == (SYSTEM, "P-0001")  # full width, normalised
    assert parsed(f'"{SYSTEM}","a,b"'.encode()) == (SYSTEM, "a,b")
    assert parsed(f"{SYSTEM}|P-0001".encode()) == (SYSTEM, "P-0001")
    assert parsed(b"urn:other,P-1") == general(b"urn:other,P-1")
    assert "neither your patient-number system" in str(parsed(b"urn:other,P-1"))
    assert parsed(f"{SYSTEM},{'9' * 256}".encode()) == "The identifier value is too long or spans lines."
    assert parsed(b"\xff\xfe") == "The line is not UTF-8."


def test_ndjson_lines_read_as_the_general_path_reads_them() -> None:
    for raw in (b'{"system": "urn:example:linkage", "value": "1"}', b"[1]", b"{", b'{"system": "urn:other"}'):
        assert parsed(raw, "ndjson") == general(raw, "ndjson")


def test_blind_indexes_are_those_of_single_lookups() -> None:
    pairs = [(SYSTEM, "P-0001"), (LINKAGE, "1234"), (SYSTEM, "カタカナ")]
    assert blind_indexes(pairs) == [blind_index(system, value) for system, value in pairs]
