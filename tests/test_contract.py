"""The contract layer against the API document's codes and the worked push signatures
(both carried as this repository's test data under tests/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.contract.signature import sign, string_to_sign, verify

DATA = Path(__file__).resolve().parent / "data"


def documented_codes() -> dict[int, str]:
    """Every result code of the API document with its text (tests/data, transcribed)."""
    data = json.loads((DATA / "document_codes.json").read_text(encoding="utf-8"))
    return {int(code): text for code, text in data["codes"].items()}


def vectors() -> list[dict[str, Any]]:
    """Worked push signatures: parameters, the string hashed, the signature, the form."""
    data: list[dict[str, Any]] = json.loads((DATA / "push_signatures.json").read_text())
    return data


def test_every_documented_code_is_known_with_the_documents_text() -> None:
    codes = documented_codes()
    assert len(codes) >= 20
    for number, text in codes.items():
        assert Code(number).message == text


def test_every_known_code_is_documented() -> None:
    documented = documented_codes()
    assert {int(code) for code in Code if code is not Code.SUCCESS} == set(documented)


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_signature_vectors_are_reproduced(vector: dict[str, Any]) -> None:
    assert string_to_sign(vector["params"], vector["client_secret"]) == vector["string_to_hash"]
    assert sign(vector["params"], vector["client_secret"]) == vector["signature"]
    assert verify({**vector["params"], "signature": vector["signature"]}, vector["client_secret"])


def test_a_tampered_push_fails_verification() -> None:
    vector = vectors()[0]
    params = {**vector["params"], "signature": vector["signature"], "locked": "true"}
    assert not verify(params, vector["client_secret"])
