"""Which queue, store and Cloudflare account a process uses, and whether a worker shares them with the web app.

A worker that quietly uses another queue than the web app (no ``HUEY_URL`` on the worker while the web app uses
Redis, another ``DATA_DIR``...) never sees an upload, and nothing says so. So the web side leaves a fingerprint
in the queue's own storage (``UploadQueue.announce_web``: huey's key/value store, the same Redis or SQLite file
the queue messages go through), and a worker reads it at start (``check_worker``):

* no fingerprint: no web app has used this queue (or one without this version): the worker says that its queue
  is probably not the web app's, and names the queue it is on;
* a fingerprint naming another upload store or account: the worker says which, and what it uses instead;
* a matching one: the worker says whose queue it shares.

Descriptions name hosts, ports, paths, prefixes and account ids, never a password or a token.
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any

from huey import RedisHuey, SqliteHuey

if TYPE_CHECKING:
    from huey import Huey

    from cfvariants.client import ImagesClient

    from ._records import UploadRecords

Identity = dict[str, Any]


def describe_huey(huey: Huey) -> str:
    """``RedisHuey 'name' at redis://host:port/db`` (no password), ``SqliteHuey 'name' at /abs/path`` ..."""
    kind = type(huey).__name__
    if isinstance(huey, RedisHuey):
        kwargs = huey.storage.conn.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        return f"{kind} {huey.name!r} at redis://{where}"
    if isinstance(huey, SqliteHuey):
        return f"{kind} {huey.name!r} at {os.path.abspath(huey.storage.filename)} on {socket.gethostname()}"
    return f"{kind} {huey.name!r} (this process only)"


def describe_store(store: UploadRecords) -> str:
    root = getattr(store, "root", None)
    if root is not None:  # files and SQLite on this machine
        return f"{type(store).__name__} at {os.path.abspath(root)} on {socket.gethostname()}"
    return repr(store)


def describe_account(client: ImagesClient) -> str:
    return f"account {client.account_id or '(batch token)'} at {client.base_url}"


def web_identity(huey: Huey, store: UploadRecords, client: ImagesClient) -> Identity:
    return {
        "queue": describe_huey(huey),
        "store": describe_store(store),
        "account": describe_account(client),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "at": time.time(),
    }


def fingerprint_key(huey: Huey) -> str:
    return f"cfvariants:web-app:{huey.name}"


def check_worker(huey: Huey, store: UploadRecords, client: ImagesClient) -> tuple[bool, str]:
    """``(shares, words)``: whether this worker's queue, store and account are the web app's, and a line saying
    what it uses (and what the web app uses, where they differ)."""
    mine = {"queue": describe_huey(huey), "store": describe_store(store), "account": describe_account(client)}
    uses = f"queue {mine['queue']}, store {mine['store']}, Cloudflare {mine['account']}"
    try:
        web = huey.get(fingerprint_key(huey), peek=True)
    except Exception as exc:  # the queue cannot be read at all: huey says so loudly on its own
        return False, f"uses {uses}; cannot read the queue ({type(exc).__name__}: {exc})"
    if not isinstance(web, dict):
        return False, (
            f"uses {uses}. No web app has used this queue: if yours is running, this worker is not on its queue "
            "and will never see its uploads (give both the same HUEY_URL)"
        )
    different = [name for name in ("store", "account") if web.get(name) != mine[name]]
    if different:
        labels = {"store": "store", "account": "Cloudflare"}  # as in ``uses``: an account reads "account <id> at..."
        theirs = "; ".join(f"{labels[name]} {web.get(name)}" for name in different)
        return False, (
            f"uses {uses}, but the web app on {web.get('host', '?')} uses {theirs}: this worker cannot send its "
            "uploads (give both the same HUEY_URL, DATA_DIR and Cloudflare settings)"
        )
    at = web.get("at")  # a fingerprint left by another version may lack what this one records
    seen = "at an unknown time" if at is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(at)))
    process = f"pid {web.get('pid', '?')}, started {seen}"
    return True, f"uses {uses}; the same as the web app on {web.get('host', '?')} ({process})"
