"""OpenAPI 3.1 at /openapi.json and interactive docs at /docs."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from segway_gateway.contract import paths
from tests.harness import RunningGateway

ALL_PATHS = [value for name, value in vars(paths).items() if name.isupper()]


@pytest.fixture(scope="module")
def document(server: RunningGateway) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json", timeout=30)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_it_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")


@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_endpoint_is_described(document: dict[str, Any], path: str) -> None:
    assert path in document["paths"]


def test_every_request_body_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_the_documents_examples_are_included(document: dict[str, Any]) -> None:
    unlock = document["components"]["schemas"]["IotCodeRequest"]
    assert unlock["examples"] == [{"iotCode": 861477038719116}]
    status = document["paths"][paths.STATUS]["get"]["responses"]["200"]
    example = status["content"]["application/json"]["example"]
    assert example["data"]["remainderRange"] == 3000
    assert example["msg"] == "Success"


def test_interactive_docs_are_served_with_nothing_from_another_host(
    server: RunningGateway,
) -> None:
    """Every script, style and icon /docs asks for comes from the gateway itself (a CDN
    would leave the page blank offline), and each is there."""
    response = httpx.get(f"{server.base_url}/docs", timeout=30)
    assert response.status_code == 200
    assert "swagger-ui" in response.text.lower()
    referenced = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", response.text)
    assert len(referenced) >= 4, referenced  # the script, the style, the icon, the document
    for reference in referenced:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = httpx.get(f"{server.base_url}{reference}", timeout=30)
        assert asset.status_code == 200, reference
    assert '"validatorUrl": null' in response.text, "no badge from validator.swagger.io"
    assert httpx.get(f"{server.base_url}/redoc", timeout=30).status_code == 404


def test_the_battery_info_envelope_declares_res_id(document: dict[str, Any]) -> None:
    assert "resId" in document["components"]["schemas"]["BatteryInfoEnvelope"]["properties"]
