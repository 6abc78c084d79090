"""The two clients offer the same API: every public method of ``ImagesClient`` has an async twin on
``AsyncImagesClient`` with the same parameters (names, kinds, defaults, annotations), and the other way round.
A method added to one client only, or a parameter added to one side, fails here."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from cfvariants.client import AsyncImagesClient, ImagesClient

# httpx's naming: the async client closes with ``aclose`` and is an async context manager.
TWINS = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
# What an annotation of the async side says where the sync side says the same thing synchronously.
ASYNC_WORDS = [
    (r"\bAsyncImagesClient\b", "ImagesClient"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncIterable\b", "Iterable"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bAsyncBaseTransport\b", "BaseTransport"),
    (r"\bAsyncClient\b", "Client"),
    (r"\bAwaitable\[(.*)\]$", r"\1"),
]


def public_members(cls: type) -> dict[str, Any]:
    return {name: inspect.getattr_static(cls, name) for name in dir(cls) if not name.startswith("_")}


def sync_names() -> list[str]:
    return sorted(set(public_members(ImagesClient)) | {"__enter__", "__exit__"})


def twin(name: str) -> str:
    return TWINS.get(name, name)


def unwrap(member: Any) -> Any:
    return member.__func__ if isinstance(member, classmethod | staticmethod) else member


def as_sync(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    for pattern, replacement in ASYNC_WORDS:
        text = re.sub(pattern, replacement, text)
    return text


def test_both_clients_have_the_same_public_methods() -> None:
    sync = {twin(name) for name in public_members(ImagesClient)}
    assert sync == set(public_members(AsyncImagesClient))


@pytest.mark.parametrize("name", sync_names())
def test_each_method_has_an_async_twin_with_the_same_parameters(name: str) -> None:
    sync_member = inspect.getattr_static(ImagesClient, name)
    async_member = inspect.getattr_static(AsyncImagesClient, twin(name))
    assert type(sync_member) is type(async_member)  # a property stays a property, a classmethod a classmethod
    if isinstance(sync_member, property):
        sync_member, async_member = sync_member.fget, async_member.fget
    sync_function, async_function = unwrap(sync_member), unwrap(async_member)
    if sync_function is async_function:
        return  # shared by both (the common base class): one definition
    sync_signature = inspect.signature(sync_function)
    async_signature = inspect.signature(async_function)
    assert [(p.name, p.kind, p.default) for p in sync_signature.parameters.values()] == [
        (p.name, p.kind, p.default) for p in async_signature.parameters.values()
    ]
    assert [as_sync(p.annotation) for p in sync_signature.parameters.values()] == [
        as_sync(p.annotation) for p in async_signature.parameters.values()
    ]
    assert as_sync(sync_signature.return_annotation) == as_sync(async_signature.return_annotation)


@pytest.mark.parametrize("name", sync_names())
def test_the_async_twin_awaits_where_the_sync_method_blocks(name: str) -> None:
    sync_member = unwrap(inspect.getattr_static(ImagesClient, name))
    async_member = unwrap(inspect.getattr_static(AsyncImagesClient, twin(name)))
    if isinstance(sync_member, property) or sync_member is async_member:
        return
    if name == "from_settings" or not inspect.isfunction(sync_member):
        assert not inspect.iscoroutinefunction(async_member)  # builds a client: nothing to wait for
        return
    returns = str(inspect.signature(sync_member).return_annotation)
    if "Iterator" in returns:
        assert inspect.isasyncgenfunction(async_member) or "AsyncIterator" in str(
            inspect.signature(async_member).return_annotation
        )
    else:
        assert inspect.iscoroutinefunction(async_member), f"AsyncImagesClient.{twin(name)} is not async"
