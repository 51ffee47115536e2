"""A loopback HTTP/1.1 server for the benchmark: the list operation answered from pages serialized in advance, so
the clients' floor is not the emulator's own serialization. ``python benchmarks/page_server.py COUNT`` prints
its URL on the first line of stdout and serves until killed; ``... COUNT DELAY`` answers each request DELAY seconds
late (a network's latency, without a network)."""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

from speech_models_emulator import build_models
from speech_models_emulator.data import ENDPOINT_PLACEHOLDER

PAGE = 100


def pages(count: int, base: str) -> dict[int, bytes]:
    """Whole responses (head and body) keyed by `skip`."""
    models = [json.dumps(model).replace(ENDPOINT_PLACEHOLDER, base) for model in build_models(count)]
    out: dict[int, bytes] = {}
    for skip in range(0, count, PAGE):
        tail = ""
        if skip + PAGE < count:
            link = f"{base}/speechtotext/models?skip={skip + PAGE}&top={PAGE}&api-version=2025-10-15"
            tail = f',"@nextLink":{json.dumps(link)}'
        body = f'{{"values":[{",".join(models[skip : skip + PAGE])}]{tail}}}'.encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        out[skip] = head.encode() + body
    return out


class PageProtocol(asyncio.Protocol):
    def __init__(self, answers: dict[int, bytes], delay: float = 0.0) -> None:
        self.answers = answers
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer and self.transport is not None:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            target = head.split(b" ", 2)[1].decode("ascii")
            skip = int(parse_qs(urlsplit(target).query).get("skip", ["0"])[0])
            answer = self.answers.get(skip, b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            if self.delay:
                asyncio.get_running_loop().call_later(self.delay, self.transport.write, answer)
            else:
                self.transport.write(answer)


async def serve(count: int, delay: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    answers: dict[int, bytes] = {}
    server = await loop.create_server(lambda: PageProtocol(answers, delay), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    answers.update(pages(count, base))
    print(base, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
