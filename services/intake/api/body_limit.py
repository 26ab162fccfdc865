"""Bodies over the configured size get 413 before anything reads them.

A declared Content-Length over the limit is answered here at once, with the limit in the
message; a streamed body without one is cut off by FastAPI's own `max_body_size`.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DeclaredBodyLimit:
    """Pure ASGI, so it costs almost nothing on the hot path."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and value.isdigit():
                    if int(value) > self._max_bytes:
                        detail = f"body larger than {self._max_bytes} bytes"
                        await JSONResponse({"detail": detail}, 413)(scope, receive, send)
                        return
                    break
        await self._app(scope, receive, send)
