"""A minimal HTTP/1.1 client on asyncio streams, for storms of simultaneous requests.

One `Connection` per simulated member, opened (and used once) before the
storm, so that a storm measures the server and not TCP set-up. `storm()`
writes every request back to back in one loop (a few milliseconds for
hundreds of them) and then waits for every answer: the moment it starts
writing is the storm's time zero, each answer's latency counts from it.

The standard library only: a general client (httpx, aiohttp) would spend
more of the same two cores the server runs on, and is not installed.
"""

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass


@dataclass
class Answer:
    status: int  # 0 when the connection failed
    body: bytes
    seconds: float  # from the storm's release to the whole answer read


def request_bytes(method: str, path: str, *, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def read_answer(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(part[:-2] for part in parts)
        else:
            body = await self.reader.read()
        return status, body

    async def call(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        return await self.read_answer()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def open_connections(host: str, port: int, count: int, *, batch: int = 100) -> list[Connection]:
    connections: list[Connection] = []
    for start in range(0, count, batch):
        connections += await asyncio.gather(*(Connection.open(host, port) for _ in range(min(batch, count - start))))
    return connections


async def storm(connections: list[Connection], requests: list[bytes]) -> tuple[list[Answer], float]:
    """Send requests[i] on connections[i], all at once; returns the answers (in order) and the release spread."""
    start = time.perf_counter()
    for connection, raw in zip(connections, requests, strict=True):
        connection.writer.write(raw)
    spread = time.perf_counter() - start

    async def answer(connection: Connection) -> Answer:
        try:
            status, body = await connection.read_answer()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            return Answer(0, f"connection failed: {error!r}".encode(), time.perf_counter() - start)
        return Answer(status, body, time.perf_counter() - start)

    answers = await asyncio.gather(*(answer(connection) for connection in connections))
    return answers, spread
