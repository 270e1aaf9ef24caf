"""Signed notes as C2SP signed-note and Go's sumdb/note define them: the published example opens and signs
byte for byte; a changed text, an unknown or wrong key and malformed notes are refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from phr.tlog import note
from phr.tlog.note import NoteError

# The example of golang.org/x/mod/sumdb/note's documentation.
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _signer(name: str = "mamori.example/logs/audit") -> note.Signer:
    return note.parse_signer_key(note.signer_key(name, Ed25519PrivateKey.generate()))


def _verifier_of(signer: note.Signer) -> str:
    return note.verifier_key(signer.name, signer.private_key.public_key())


def test_the_go_documentation_example_opens_and_signs_to_the_same_bytes() -> None:
    assert note.open_note(GO_NOTE, [GO_VERIFIER]) == GO_TEXT
    assert note.sign_note(GO_TEXT, [note.parse_signer_key(GO_SIGNER)]) == GO_NOTE


def test_the_key_hash_is_the_first_four_bytes_of_sha256_of_name_newline_and_key() -> None:
    signer = note.parse_signer_key(GO_SIGNER)
    encoded = base64.b64decode(GO_VERIFIER.split("+")[2])

    assert note.key_hash("PeterNeumann", encoded) == bytes.fromhex("c74f20a3") == signer.key_hash
    assert _verifier_of(signer) == GO_VERIFIER


@given(text=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=200))
def test_any_text_signed_here_opens_with_its_verifier_key(text: str) -> None:
    signer = _signer()

    assert note.open_note(note.sign_note(text + "\n", [signer]), [_verifier_of(signer)]) == text + "\n"


def test_a_changed_text_is_refused() -> None:
    signed = note.sign_note("mamori.example/logs/audit\n7\n", [signer := _signer()])

    with pytest.raises(NoteError, match="invalid signature"):
        note.open_note(signed.replace("\n7\n", "\n8\n"), [_verifier_of(signer)])


def test_a_note_signed_by_another_key_of_the_same_name_is_refused() -> None:
    signed = note.sign_note("text\n", [_signer()])

    with pytest.raises(NoteError, match="not signed by any known key"):
        note.open_note(signed, [_verifier_of(_signer())])


def test_a_signature_forged_under_a_known_key_hash_is_refused() -> None:
    signer, forger = _signer(), _signer()
    forged = note.Signer(signer.name, signer.key_hash, forger.private_key)

    with pytest.raises(NoteError, match="invalid signature"):
        note.open_note(note.sign_note("text\n", [forged]), [_verifier_of(signer)])


def test_unknown_cosignatures_are_ignored_as_the_spec_asks() -> None:
    log, witness = _signer(), _signer("witness.example/w1")

    signed = note.sign_note("text\n", [log, witness])

    assert note.open_note(signed, [_verifier_of(log)]) == "text\n"
    assert note.open_note(signed, [_verifier_of(witness)]) == "text\n"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line before the signatures
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("— ", "- "),  # not an em dash
        lambda n: n.replace("text", "te\x01xt"),  # a control character
        lambda n: n + "— name\n",  # a signature line without a signature
        lambda n: n + "— name AAAA\n",  # a signature shorter than its key hash and one byte
    ],
)
def test_malformed_notes_are_refused(mangle) -> None:
    signer = _signer()

    with pytest.raises(NoteError):
        note.open_note(mangle(note.sign_note("text\n", [signer])), [_verifier_of(signer)])


@pytest.mark.parametrize("name", ["", "with space", "with+plus", "tab\there", "ideographic\u3000space"])
def test_key_names_with_spaces_or_plus_signs_are_refused(name: str) -> None:
    with pytest.raises(NoteError):
        note.signer_key(name, Ed25519PrivateKey.generate())


def test_a_verifier_key_whose_hash_does_not_match_is_refused() -> None:
    name, hexhash, key = GO_VERIFIER.split("+")

    with pytest.raises(NoteError, match="hash"):
        note.open_note(GO_NOTE, [f"{name}+{int(hexhash, 16) ^ 1:08x}+{key}"])
    with pytest.raises(NoteError):
        note.parse_signer_key(GO_SIGNER.replace("PRIVATE+KEY", "PUBLIC+KEY"))


def test_a_text_without_a_final_newline_cannot_be_signed() -> None:
    with pytest.raises(NoteError):
        note.sign_note("text", [_signer()])
