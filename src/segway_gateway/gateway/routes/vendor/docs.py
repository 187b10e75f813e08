"""OpenAPI descriptions for handlers that parse their own input (see `call.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from segway_gateway.contract.envelope import Envelope
from segway_gateway.contract.models import example_envelope

REF = "#/components/schemas/{model}"
REQUEST_MODELS: list[type[BaseModel]] = []
"""Request models whose schemas `app.py` adds to the document's components."""


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON request body of `model`."""
    REQUEST_MODELS.append(model)
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    }


def query(*params: tuple[str, str, bool, dict[str, Any]]) -> dict[str, Any]:
    """`openapi_extra` declaring query parameters as (name, description, required, schema)."""
    return {
        "parameters": [
            {"name": n, "in": "query", "description": d, "required": r, "schema": s}
            for n, d, r, s in params
        ]
    }


IOT_CODE_PARAM = ("iotCode", "IoT IMEI", True, {"type": "string", "example": "861477038719116"})
BEARER: dict[str, Any] = {"security": [{"bearer": []}]}


def envelope_of(
    name: str,
    data: type[Any] | None,
    example: Any = None,
    msg: str = "Success",
    *,
    res_id: bool = False,
) -> dict[int | str, dict[str, Any]]:
    """`responses` for an endpoint answering with the envelope around `data`."""
    data_type: Any = data | None if data else None
    fields: dict[str, Any] = {"data": (data_type, None)}
    if res_id:
        fields["resId"] = (str, Field(description="the op id again, as the document shows it"))
    model = create_model(name, __base__=Envelope, **fields)
    return {
        200: {
            "model": model,
            "description": "Always HTTP 200; `code` 0 is success, anything else an error.",
            "content": {"application/json": {"example": example_envelope(example, msg)}},
        }
    }
