"""A request that is not valid HTTP gets a 400 from the server, and the service keeps serving.

The OpenAPI fuzz leaves such requests out (see tests/support/fuzz.py): the server's parser
answers them before any application code runs. This is that answer, checked on its own.
"""

import socket

import httpx
import pytest

from services.demo.processes import ServiceProcess

MALFORMED = [
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: =/Y4f%V>\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


def _answer_to(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(4096):
            received += chunk
    return received


@pytest.mark.parametrize("service", ["intake", "dispatch", "ledger"])
@pytest.mark.parametrize("raw", MALFORMED, ids=["bad-length", "two-lengths", "bad-chunk"])
def test_a_request_that_is_not_http_gets_400_and_the_service_keeps_serving(
    services: dict[str, ServiceProcess], service: str, raw: bytes
) -> None:
    process = services[service]
    answer = _answer_to(process.port, raw)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert httpx.get(f"{process.url}/healthz", timeout=10).status_code == 200
