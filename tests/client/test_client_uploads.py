"""Upload sources (path, bytes, file objects from their position, non-seekable streams) and streamed bodies:
uploads and downloads whose memory does not grow with the file size."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from client_helpers import UID, CountingTransport, Side, fixture, multipart
from typing_extensions import Buffer

from cfvariants.client import NotFoundError, TransportError, ValidationError

MB = 1024 * 1024


class Unseekable(io.RawIOBase):
    """A pipe-like binary stream: read only, no seek, no tell."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._data.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)


async def test_upload_from_a_path_names_the_file_and_guesses_its_type(
    api: Side, cf: respx.MockRouter, tmp_path: Path
) -> None:
    path = tmp_path / "holiday photo.jpg"
    path.write_bytes(b"\xff\xd8\xff-jpeg-bytes")
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    await api.run(api.client.upload(path))
    part = multipart(route.calls.last.request)["file"]
    assert (part.filename, part.content_type, part.data) == (
        "holiday photo.jpg",
        "image/jpeg",
        b"\xff\xd8\xff-jpeg-bytes",
    )
    await api.run(api.client.upload(str(path), filename="renamed.webp"))
    part = multipart(route.calls.last.request)["file"]
    assert (part.filename, part.content_type) == ("renamed.webp", "image/webp")


async def test_upload_from_a_file_object_sends_from_its_current_position(
    api: Side, cf: respx.MockRouter, tmp_path: Path
) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"HEADER" + b"payload")
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    with path.open("rb") as handle:
        handle.read(6)
        await api.run(api.client.upload(handle))
        assert not handle.closed  # the caller's file stays the caller's
    part = multipart(route.calls.last.request)["file"]
    assert (part.filename, part.data) == ("a.png", b"payload")


async def test_upload_from_a_non_seekable_stream(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    await api.run(api.client.upload(io.BufferedReader(Unseekable(b"streamed-bytes" * 1000)), filename="s.gif"))
    part = multipart(route.calls.last.request)["file"]
    assert (part.filename, part.content_type, part.data) == ("s.gif", "image/gif", b"streamed-bytes" * 1000)


async def test_a_retried_file_upload_resends_the_same_bytes(api: Side, cf: respx.MockRouter, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(os.urandom(200_000))
    route = cf.post("/images/v1")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json=fixture("image"))]
    with path.open("rb") as handle:
        handle.seek(1000)
        await api.run(api.client.upload(handle))
    first, second = (multipart(call.request)["file"].data for call in route.calls)
    assert first == second == path.read_bytes()[1000:]


async def test_an_oversized_non_seekable_stream_is_refused(api: Side, cf: respx.MockRouter) -> None:
    route = cf.post("/images/v1").respond(200, json=fixture("image"))
    with pytest.raises(ValidationError, match="holds more than 10,485,760 bytes"):
        await api.run(api.client.upload(io.BufferedReader(Unseekable(b"\0" * (10 * MB + 1)))))
    assert not route.called


async def test_an_oversized_file_object_is_refused_by_seeking(api: Side, cf: respx.MockRouter, tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as handle:
        handle.truncate(10 * MB + 100)
    with path.open("rb") as handle:
        handle.seek(99)  # from here 10 MB + 1 byte remain
        with pytest.raises(ValidationError, match="10,485,761 bytes"):
            await api.run(api.client.upload(handle))
        handle.seek(100)  # exactly 10 MB: allowed
        cf.post("/images/v1").respond(200, json=fixture("image"))
        await api.run(api.client.upload(handle))


# -- memory does not grow with the file size -----------------------------------------------------------------


def _peak_while(transfer: Iterator[None]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in transfer:
            pass
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


async def test_uploading_a_9_mb_file_streams_it(tmp_path: Path, api: Side) -> None:
    path = tmp_path / "large.png"
    with path.open("wb") as handle:
        for _ in range(9):
            handle.write(os.urandom(MB))
    transport = CountingTransport(lambda request, size: httpx.Response(200, json=fixture("image")))
    await api.rebuild(transport=transport)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        await api.run(api.client.upload(path))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert transport.received[0] > 9 * MB  # the whole file went out...
    assert peak < 2 * MB  # ...without ever being in memory at once


# -- downloads -----------------------------------------------------------------------------------------------


async def test_download_to_a_path_streams_the_original(api: Side, cf: respx.MockRouter, tmp_path: Path) -> None:
    original = os.urandom(300_000)
    route = cf.get("/images/v1/users%2F7%2Fa.png/blob").respond(
        200, content=original, headers={"content-type": "image/png"}
    )
    target = tmp_path / "copy.png"
    written = await api.run(api.client.download("users/7/a.png", target))
    assert written == len(original)
    assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.png"]  # no temporary file left behind
    request = route.calls.last.request
    assert request.headers["accept"] == "image/*"
    assert request.url.raw_path.endswith(b"/images/v1/users%2F7%2Fa.png/blob")


async def test_download_to_a_file_object_and_as_chunks(api: Side, cf: respx.MockRouter) -> None:
    original = os.urandom(200_000)
    cf.get(f"/images/v1/{UID}/blob").respond(200, content=original)
    sink = io.BytesIO()
    assert await api.run(api.client.download(UID, sink)) == len(original)
    assert sink.getvalue() == original
    chunks = await api.collect(api.client.iter_download(UID, chunk_size=50_000))
    assert b"".join(chunks) == original
    assert max(len(chunk) for chunk in chunks) <= 50_000
    assert len(chunks) >= 4


async def test_a_failed_download_leaves_the_destination_untouched(
    api: Side, cf: respx.MockRouter, tmp_path: Path
) -> None:
    target = tmp_path / "keep.png"
    target.write_bytes(b"previous contents")
    cf.get(f"/images/v1/{UID}/blob").respond(404, json=fixture("error_not_found"))
    with pytest.raises(NotFoundError):
        await api.run(api.client.download(UID, target))
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def _broken_body(kind: str) -> httpx.SyncByteStream | httpx.AsyncByteStream:
    class Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"x" * 1000
            raise httpx.ReadError("connection reset by peer")

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"x" * 1000
            raise httpx.ReadError("connection reset by peer")

    return Broken()


async def test_a_download_broken_off_part_way_is_a_transport_error_and_writes_nothing(
    api: Side, cf: respx.MockRouter, tmp_path: Path
) -> None:
    cf.get(f"/images/v1/{UID}/blob").mock(return_value=httpx.Response(200, stream=_broken_body(api.kind)))
    target = tmp_path / "copy.png"
    with pytest.raises(TransportError) as info:
        await api.run(api.client.download(UID, target))
    assert info.value.cause == "ReadError"
    assert "broke off part way" in str(info.value)
    assert list(tmp_path.iterdir()) == []


async def test_downloading_a_9_mb_image_streams_it(api: Side, tmp_path: Path) -> None:
    chunk = os.urandom(64 * 1024)
    count = 9 * MB // len(chunk)

    class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(count):
                yield chunk

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(count):
                yield chunk

    transport = CountingTransport(lambda request, size: httpx.Response(200, stream=Body()))
    await api.rebuild(transport=transport)
    target = tmp_path / "large.png"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        written = await api.run(api.client.download(UID, target))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert written == target.stat().st_size == count * len(chunk)
    assert peak < 2 * MB
