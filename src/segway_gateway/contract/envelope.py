"""The `{code, msg, data, t, opId}` envelope every API response is wrapped in."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from segway_gateway.contract.codes import Code

SUCCESS_MSG = "Success"
"""`msg` of status, every control and every setting (clients compare it exactly)."""
LOWER_SUCCESS_MSG = "success"
"""`msg` of location, battery-info and bluetooth-key, as in the document's examples."""


class Envelope(BaseModel):
    """An API response as it travels; `resId` is the battery-info example's name for `opId`.

    The SDK returns it for calls without data (controls, settings) and attaches it
    to the data of queries (`status.envelope.op_id`).
    """

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    code: int
    msg: str
    data: Any = None
    t: int
    op_id: str = Field(validation_alias=AliasChoices("opId", "resId"), serialization_alias="opId")
    """`opId`; battery-info answers in the document's examples carry it as `resId` only."""


def new_op_id() -> str:
    """A fresh operation id, one per API call."""
    return str(uuid.uuid4())


def envelope(
    code: Code,
    op_id: str,
    data: Any = None,
    msg: str | None = None,
    *,
    t: int,
    res_id: bool = False,
) -> dict[str, Any]:
    """The envelope of one answer made at `t` (epoch ms); `msg` defaults to the document's
    text for `code`."""
    body: dict[str, Any] = {
        "code": int(code),
        "msg": code.message if msg is None else msg,
        "data": data,
        "t": t,
        "opId": op_id,
    }
    if res_id:
        body["resId"] = op_id
    return body
