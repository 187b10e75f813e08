"""Reading a request body with a size limit that holds while it streams in."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


class BodyRefused(Exception):
    """The body is larger than allowed, or the client went away while sending it."""


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyRefused(f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyRefused(f"body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect as err:
        raise BodyRefused("client went away") from err
    return b"".join(chunks)
