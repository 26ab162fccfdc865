"""Bodies over the configured size get 413 with the limit in the message.

A declared Content-Length over the limit is answered before anything reads the body; one
within it needs no counting, since the server reads exactly that many bytes. A body streamed
without one is counted as it arrives: once over, the 413 is sent, the application
sees the client gone, and whatever it would still answer is dropped. The disconnect it then
raises ends the request as the 413 it was: `observability.HttpMetrics`, outside this
middleware, handles it as it handles any body that ended before it was read.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Pure ASGI, so it costs almost nothing on the hot path."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    def _refusal(self) -> JSONResponse:
        return JSONResponse({"detail": f"body larger than {self._max_bytes} bytes"}, 413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared: int | None = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit():
                declared = int(value)
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared > self._max_bytes:
            await self._refusal()(scope, receive, send)
            return
        if declared is not None and not chunked:
            # The server reads exactly the declared length, so there is nothing to count.
            await self._app(scope, receive, send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    refused = True
                    await self._refusal()(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self._app(scope, counted, unless_refused)
