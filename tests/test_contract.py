"""The contract layer against the API document itself and the signature vectors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from segway_gateway.contract.codes import Code
from segway_gateway.contract.signature import sign, string_to_sign, verify

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"


def spec_file(name: str) -> Path:
    path = SPEC_DIR / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the API document from ../shared/spec")
    return path


def documented_codes() -> dict[int, str]:
    """Every `| sn | code | error |` row of the document (Appendix and endpoint tables)."""
    rows = re.findall(
        r"^\d+ \| (\d{5}) \| ([^|]+?) \|$",
        spec_file("segway-api-e-bike-c80.md").read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    return {int(code): text for code, text in rows}


def vectors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(spec_file("push-signature-vectors.json").read_text())
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
