"""The one exception the API layers raise to answer with a result code."""

from __future__ import annotations

from segway_gateway.contract.codes import Code


class ApiError(Exception):
    """Answer this call with `code` (and the document's `msg` for it)."""

    def __init__(self, code: Code, detail: str = "") -> None:
        super().__init__(f"{int(code)} {code.message}" + (f": {detail}" if detail else ""))
        self.code = code
        self.detail = detail
