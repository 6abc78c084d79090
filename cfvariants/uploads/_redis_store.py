"""``RedisUploadStore``: staged bytes and upload records in Redis, for web servers and workers on many machines.

With ``HUEY_URL=redis://...`` the queue is already shared; keeping the staged bytes and the records in the same
Redis means a worker on any machine can upload a file a web server on another machine accepted, with no shared
disk. Uploads are at most 10 MB and live in Redis only until a worker has sent them (give Redis the memory for
the backlog you expect; ``maxmemory-policy noeviction`` so nothing accepted is ever dropped).

Keys under ``<prefix>`` (default ``cfv:uploads:<name>``): ``:r:<id>`` a hash per record, ``:d:<id>`` the staged
bytes, ``:s:<state>`` one sorted set of ids per state (by creation time), ``:leases`` the uploads held by a
worker (by lease expiry), ``:staging`` bytes written but not yet recorded (by time), ``:block`` a hash while
the queue is blocked (cause, since, probe_at). Every state change is one Lua script, so it is atomic across
processes and machines. (Scripts name keys from the prefix: a single Redis,
or a cluster with hash tags in the prefix, e.g. ``{cfv}:uploads``.)
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from redis import Redis
from redis.exceptions import OutOfMemoryError

from ._records import (
    Block,
    StorageFull,
    UploadRecord,
    UploadsError,
    UploadState,
    is_upload_id,
    receive,
    record_from_values,
)

_FIELDS = (
    "id", "state", "filename", "content_type", "size", "private", "custom_id", "metadata", "context", "image_id",
    "error", "attempts", "lease_until", "enqueued_at", "created_at", "updated_at",
)  # fmt: skip
_INTS = frozenset({"size", "private", "attempts"})
_FLOATS = frozenset({"lease_until", "enqueued_at", "created_at", "updated_at"})
_OPTIONAL_TEXTS = frozenset({"custom_id", "image_id", "error"})

# Move a record from one of the allowed states to another, atomically. ARGV: prefix, id, now, to_state,
# allowed states (comma-separated), "1" if an uploading record must have an expired lease, "1" to count an
# attempt, "1" to drop the staged bytes, then field/value pairs to set.
_TRANSITION = """
local prefix, id, now, to_state = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local record = prefix .. ':r:' .. id
local state = redis.call('HGET', record, 'state')
if not state then return 0 end
local allowed = false
for name in string.gmatch(ARGV[5], '[^,]+') do
  if name == state then allowed = true end
end
if not allowed then return 0 end
if ARGV[6] == '1' and state == 'uploading' then
  local lease = tonumber(redis.call('HGET', record, 'lease_until')) or 0
  if lease >= tonumber(now) then return 0 end
end
local created = redis.call('HGET', record, 'created_at')
redis.call('ZREM', prefix .. ':s:' .. state, id)
redis.call('ZADD', prefix .. ':s:' .. to_state, created, id)
redis.call('HSET', record, 'state', to_state, 'updated_at', now)
for i = 9, #ARGV, 2 do redis.call('HSET', record, ARGV[i], ARGV[i + 1]) end
if ARGV[7] == '1' then redis.call('HINCRBY', record, 'attempts', 1) end
if to_state == 'uploading' then
  redis.call('ZADD', prefix .. ':leases', redis.call('HGET', record, 'lease_until'), id)
else
  redis.call('ZREM', prefix .. ':leases', id)
end
if ARGV[8] == '1' then redis.call('DEL', prefix .. ':d:' .. id) end
return 1
"""

# Record a staged upload as pending, unless the id exists. ARGV: prefix, id, created_at, then field/value pairs.
_RECORD = """
local prefix, id, created = ARGV[1], ARGV[2], ARGV[3]
local record = prefix .. ':r:' .. id
if redis.call('EXISTS', record) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', record, ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', prefix .. ':s:pending', created, id)
redis.call('ZREM', prefix .. ':staging', id)
return 1
"""

# Claim the probe when it is due. ARGV: prefix, now, next probe time. Returns the block (cause, since, probe_at).
_CLAIM_PROBE = """
local key = ARGV[1] .. ':block'
local probe_at = tonumber(redis.call('HGET', key, 'probe_at'))
if not probe_at or probe_at > tonumber(ARGV[2]) then return false end
redis.call('HSET', key, 'probe_at', ARGV[3])
return redis.call('HMGET', key, 'cause', 'since', 'probe_at')
"""

# Lift the block: every blocked record back to pending (not enqueued). ARGV: prefix, now. Returns the ids.
_UNBLOCK = """
local prefix, now = ARGV[1], ARGV[2]
redis.call('DEL', prefix .. ':block')
local blocked = redis.call('ZRANGE', prefix .. ':s:blocked', 0, -1, 'WITHSCORES')
for i = 1, #blocked, 2 do
  local id, created = blocked[i], blocked[i + 1]
  redis.call('ZADD', prefix .. ':s:pending', created, id)
  redis.call('HSET', prefix .. ':r:' .. id, 'state', 'pending', 'enqueued_at', '', 'updated_at', now)
end
redis.call('DEL', prefix .. ':s:blocked')
local ids = {}
for i = 1, #blocked, 2 do ids[#ids + 1] = blocked[i] end
return ids
"""
# Forget an upload: its record, bytes, state, lease and staging mark. ARGV: prefix, id, then every state's name.
_DELETE = """
local prefix, id = ARGV[1], ARGV[2]
redis.call('DEL', prefix .. ':r:' .. id, prefix .. ':d:' .. id)
for i = 3, #ARGV do redis.call('ZREM', prefix .. ':s:' .. ARGV[i], id) end
redis.call('ZREM', prefix .. ':leases', id)
redis.call('ZREM', prefix .. ':staging', id)
return 1
"""

# Note when an upload's task was sent, if it is still recorded (a discard meanwhile must not leave a husk of a
# record holding only this field). ARGV: prefix, id, enqueued_at.
_ENQUEUED = """
local record = ARGV[1] .. ':r:' .. ARGV[2]
if redis.call('EXISTS', record) == 0 then return 0 end
redis.call('HSET', record, 'enqueued_at', ARGV[3])
return 1
"""

# Extend the lease of one claim (the worker's heartbeat). ARGV: prefix, id, attempt, lease_until.
_RENEW = """
local prefix, id = ARGV[1], ARGV[2]
local record = prefix .. ':r:' .. id
if redis.call('HGET', record, 'state') ~= 'uploading' then return 0 end
if redis.call('HGET', record, 'attempts') ~= ARGV[3] then return 0 end
redis.call('HSET', record, 'lease_until', ARGV[4])
redis.call('ZADD', prefix .. ':leases', ARGV[4], id)
return 1
"""


class RedisUploadStore:
    """Upload records and staged bytes in Redis (``url``: ``redis://host:6379/0``, or a ``Redis`` client that
    answers bytes, not one made with ``decode_responses=True``).
    ``clock``: the current Unix time (tests pass a controllable one)."""

    def __init__(
        self,
        url: str | Redis,
        *,
        name: str = "default",
        prefix: str | None = None,
        preview_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis: Redis = Redis.from_url(url) if isinstance(url, str) else url
        if self.redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError(
                "RedisUploadStore needs a Redis client that answers bytes (decode_responses=False): it keeps the "
                "uploaded files themselves in Redis"
            )
        self.prefix = prefix or f"cfv:uploads:{name}"
        self.preview_url = preview_url
        self.clock = clock
        self._transition = self.redis.register_script(_TRANSITION)
        self._record_script = self.redis.register_script(_RECORD)
        self._claim_probe = self.redis.register_script(_CLAIM_PROBE)
        self._unblock = self.redis.register_script(_UNBLOCK)
        self._renew_script = self.redis.register_script(_RENEW)
        self._enqueued = self.redis.register_script(_ENQUEUED)
        self._delete = self.redis.register_script(_DELETE)

    def __repr__(self) -> str:
        kwargs = self.redis.connection_pool.connection_kwargs
        return f"RedisUploadStore({kwargs.get('host', '?')}:{kwargs.get('port', '?')}, prefix={self.prefix!r})"

    def close(self) -> None:
        self.redis.close()

    def _key(self, kind: str, upload_id: str = "") -> str:
        return f"{self.prefix}:{kind}:{upload_id}" if upload_id else f"{self.prefix}:{kind}"

    # -- staging ---------------------------------------------------------------------------------------------------

    def stage(
        self,
        source: IO[bytes] | bytes,
        *,
        filename: str,
        content_type: str,
        private: bool = False,
        custom_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
        upload_id: str | None = None,
        check: Callable[[Path], str | None] | None = None,
    ) -> UploadRecord:
        """Receive the file (checked on local disk first), store its bytes, then record it as pending; nothing
        stays behind when anything fails."""
        upload_id = upload_id or uuid.uuid4().hex
        if not is_upload_id(upload_id):
            raise UploadsError(f"{upload_id!r} is not an upload id")
        if self.redis.exists(self._key("r", upload_id), self._key("d", upload_id)):
            raise UploadsError(f"upload {upload_id!r} already exists")
        with tempfile.TemporaryDirectory(prefix="cfv-upload-") as directory:
            path = Path(directory) / upload_id
            size, content_type = receive(source, path, max_bytes=max_bytes, check=check, content_type=content_type)
            data = path.read_bytes()
        now = self.clock()
        values = {
            "id": upload_id, "state": UploadState.PENDING.value, "filename": filename, "content_type": content_type,
            "size": size, "private": int(private), "custom_id": custom_id, "metadata": json.dumps(dict(metadata or {})),
            "context": json.dumps(dict(context or {})), "image_id": None, "error": None, "attempts": 0,
            "lease_until": None, "enqueued_at": None, "created_at": now, "updated_at": now,
        }  # fmt: skip
        # One transaction, refused whole when Redis is out of memory. NX: bytes another process staged under this
        # id since the check above stay its own.
        with self._out_of_memory(), self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("d", upload_id), data, nx=True)
            pipe.zadd(self._key("staging"), {upload_id: now})
            written = pipe.execute()[0]
        if not written:
            raise UploadsError(f"upload {upload_id!r} already exists")
        try:
            with self._out_of_memory():
                if not self._record_script(args=[self.prefix, upload_id, repr(now), *_pairs(values)]):
                    raise UploadsError(f"upload {upload_id!r} already exists")
        except BaseException:
            self._forget_bytes(upload_id)
            raise
        return self.get(upload_id)

    @contextlib.contextmanager
    def _out_of_memory(self) -> Iterator[None]:
        """Redis out of memory as ``StorageFull`` naming the server, for the operator: the upload was not kept."""
        try:
            yield
        except OutOfMemoryError as exc:
            raise StorageFull(
                f"Redis is out of memory ({self!r}); the upload was not kept (raise maxmemory or let the queue drain)"
            ) from exc

    def _forget_bytes(self, upload_id: str) -> None:
        """Drop staged bytes that have no record. Not a MULTI: Redis refuses transactions when out of memory,
        and this is what runs then; plain DEL and ZREM are allowed."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._key("d", upload_id))
            pipe.zrem(self._key("staging"), upload_id)
            pipe.execute()

    def open_staged(self, upload_id: str) -> IO[bytes]:
        data = self.redis.get(self._key("d", upload_id))
        if data is None:
            raise FileNotFoundError(f"the staged bytes of upload {upload_id} are gone")
        return io.BytesIO(bytes(data))  # type: ignore[arg-type]

    def staged_ids(self) -> list[str]:
        prefix = f"{self.prefix}:d:"
        found = []
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", prefix) + "*"  # the prefix as it is: no glob of its own
        for key in self.redis.scan_iter(match=pattern, count=500):
            found.append(_text(key).removeprefix(prefix))
        return sorted(found)

    def remove_orphans(self, *, older_than: float) -> int:
        """Bytes written but never recorded (the writer died in between), older than ``older_than`` seconds."""
        removed = 0
        old: Any = self.redis.zrangebyscore(self._key("staging"), "-inf", self.clock() - older_than)
        for member in old:
            upload_id = _text(member)
            if not self.redis.exists(self._key("r", upload_id)):
                self._forget_bytes(upload_id)
                removed += 1
            else:
                self.redis.zrem(self._key("staging"), upload_id)
        return removed

    # -- reading ---------------------------------------------------------------------------------------------------

    def get(self, upload_id: str) -> UploadRecord:
        found = self.find(upload_id)
        if found is None:
            raise UploadsError(f"no upload {upload_id!r}")
        return found

    def find(self, upload_id: str) -> UploadRecord | None:
        if not is_upload_id(upload_id):
            return None
        return self._records([upload_id])[0]

    def _records(self, ids: list[str]) -> list[UploadRecord | None]:
        with self.redis.pipeline(transaction=False) as pipe:
            for upload_id in ids:
                pipe.hgetall(self._key("r", upload_id))
            rows = pipe.execute()
        return [self._record(row) if row else None for row in rows]

    def _record(self, row: Mapping[bytes, bytes]) -> UploadRecord:
        """A record from its hash, which has every field (staging writes them all; "" stands for ``None``)."""
        raw = {key.decode(): value.decode() for key, value in row.items()}
        values: dict[str, Any] = {}
        for name in _FIELDS:
            text = raw[name]
            if name in _INTS:
                values[name] = int(text)
            elif name in _FLOATS:
                values[name] = float(text) if text else None
            else:
                values[name] = (text or None) if name in _OPTIONAL_TEXTS else text
        return record_from_values(values, self.preview_url)

    def recent(
        self, *, state: UploadState | None = None, limit: int = 100, newest_first: bool = True
    ) -> list[UploadRecord]:
        """Records, newest first by default (optionally of one state)."""
        keys = [self._key("s", s.value) for s in ([state] if state else list(UploadState))]
        scored: list[tuple[float, str]] = []
        for key in keys:
            members: Any = self.redis.zrange(key, 0, limit - 1, desc=newest_first, withscores=True)
            scored += [(float(score), _text(member)) for member, score in members]
        scored.sort(reverse=newest_first)  # by creation time, then id, as the SQLite store orders them
        return [r for r in self._records([i for _, i in scored[:limit]]) if r is not None]

    def counts(self) -> dict[UploadState, int]:
        with self.redis.pipeline(transaction=False) as pipe:
            for state in UploadState:
                pipe.zcard(self._key("s", state.value))
            totals = pipe.execute()
        return {state: int(total) for state, total in zip(UploadState, totals, strict=True)}

    # -- state changes ---------------------------------------------------------------------------------------------

    def _move(
        self,
        upload_id: str,
        to_state: UploadState,
        allowed: tuple[UploadState, ...],
        *,
        need_expired: bool = False,
        attempt: bool = False,
        drop_bytes: bool = False,
        **fields: Any,
    ) -> bool:
        args = [
            self.prefix, upload_id, repr(self.clock()), to_state.value, ",".join(s.value for s in allowed),
            "1" if need_expired else "0", "1" if attempt else "0", "1" if drop_bytes else "0", *_pairs(fields),
        ]  # fmt: skip
        return bool(self._transition(args=args))

    def mark_enqueued(self, upload_id: str, *, at: float | None = None) -> None:
        self._enqueued(args=[self.prefix, upload_id, repr(self.clock() if at is None else at)])

    def claim(self, upload_id: str, *, lease: float, blocked: bool = False) -> UploadRecord | None:
        """Take the upload for one attempt (pending, blocked for the probe, or uploading with a lease that ran
        out); atomic."""
        until = self.clock() + lease
        allowed = (UploadState.PENDING, UploadState.UPLOADING, *((UploadState.BLOCKED,) if blocked else ()))
        moved = self._move(
            upload_id, UploadState.UPLOADING, allowed, need_expired=True, attempt=True, lease_until=repr(until)
        )
        return self.get(upload_id) if moved else None

    def renew(self, upload_id: str, *, lease: float, attempt: int) -> bool:
        """Extend the lease of the claim made as attempt ``attempt``; False if that claim is over."""
        until = repr(self.clock() + lease)
        return bool(self._renew_script(args=[self.prefix, upload_id, str(attempt), until]))

    def release(self, upload_id: str, error: str) -> None:
        self._move(upload_id, UploadState.PENDING, (UploadState.UPLOADING,), lease_until=None, error=error)

    def mark_ready(self, upload_id: str, image_id: str) -> bool:
        return self._move(
            upload_id, UploadState.READY, (UploadState.PENDING, UploadState.UPLOADING, UploadState.BLOCKED),
            drop_bytes=True, image_id=image_id, error=None, lease_until=None,
        )  # fmt: skip

    def mark_failed(self, upload_id: str, reason: str) -> None:
        """Refused for good: the reason is kept, and so are the bytes (for a retry, a discard or the retention)."""
        self._move(
            upload_id, UploadState.FAILED, (UploadState.PENDING, UploadState.UPLOADING, UploadState.BLOCKED),
            error=reason, lease_until=None,
        )  # fmt: skip

    def mark_blocked(self, upload_id: str, reason: str) -> bool:
        return self._move(
            upload_id, UploadState.BLOCKED, (UploadState.PENDING, UploadState.UPLOADING), error=reason, lease_until=None
        )

    def requeue(
        self, upload_id: str, *, states: tuple[UploadState, ...] = (UploadState.FAILED, UploadState.BLOCKED)
    ) -> bool:
        return self._move(upload_id, UploadState.PENDING, states, enqueued_at=None, lease_until=None)

    def delete(self, upload_id: str) -> None:
        """Forget an upload and its bytes (a person's discard), also when Redis is out of memory: that is when
        room is needed, and a script of DEL and ZREM only runs then, where a MULTI would be refused."""
        self._delete(args=[self.prefix, upload_id, *(state.value for state in UploadState)])

    # -- the block ---------------------------------------------------------------------------------------------------

    def block(self, cause: str, *, probe_at: float) -> Block:
        key = self._key("block")
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "since", repr(self.clock()))
            pipe.hsetnx(key, "probe_at", repr(probe_at))
            pipe.hset(key, "cause", cause)
            pipe.hmget(key, "since", "probe_at")
            since, probe_at = pipe.execute()[-1]
        return Block(cause, float(since), float(probe_at))

    def current_block(self) -> Block | None:
        values: Any = self.redis.hmget(self._key("block"), "cause", "since", "probe_at")
        return _block(values)

    def claim_probe(self, *, next_probe_at: float) -> Block | None:
        values: Any = self._claim_probe(args=[self.prefix, repr(self.clock()), repr(next_probe_at)])
        return _block(values) if values else None

    def unblock(self) -> list[str]:
        ids: Any = self._unblock(args=[self.prefix, repr(self.clock())])
        return [_text(upload_id) for upload_id in ids]

    # -- reconciling -----------------------------------------------------------------------------------------------

    def needing_work(self, *, enqueued_before: float, now: float | None = None) -> list[UploadRecord]:
        now = self.clock() if now is None else now
        pending_members: Any = self.redis.zrange(self._key("s", UploadState.PENDING.value), 0, -1)
        expired_members: Any = self.redis.zrangebyscore(self._key("leases"), "-inf", f"({now}")
        pending = [_text(member) for member in pending_members]
        expired = [_text(member) for member in expired_members]
        found = []
        for record in self._records(pending + expired):
            if record is None:
                continue
            # Read again from the record: the sets were read a moment before, and a worker may have moved it since.
            if record.state is UploadState.PENDING:
                if record.enqueued_at is None or record.enqueued_at < enqueued_before:
                    found.append(record)
            elif record.state is UploadState.UPLOADING and record.lease_until is not None and record.lease_until < now:
                found.append(record)
        return sorted(found, key=lambda r: r.created_at)


def _text(value: bytes) -> str:
    return value.decode()


def _pairs(values: Mapping[str, Any]) -> list[str]:
    """Field/value pairs for a hash: ``None`` is stored as "" and numbers as their exact text (``str`` of a float
    is the shortest text that reads back as the same float)."""
    out: list[str] = []
    for name, value in values.items():
        out += [name, "" if value is None else str(value)]
    return out


def _block(values: list[Any]) -> Block | None:
    """The block from its hash's cause, since and probe_at: all three or none (``block`` writes them together)."""
    cause, since, probe_at = values
    if cause is None:
        return None
    return Block(_text(cause), float(since), float(probe_at))
