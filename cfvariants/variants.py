"""Named variants as code: declare them in a file, see the difference from the account, make it so.

A declaration is a ``variants.toml`` file::

    [variants.avatar]
    fit = "cover"
    width = 240
    height = 240
    never_require_signed_urls = true     # served without a signature even for private images

    [variants.thumb]
    options = "w=320,h=320,fit=scale-down"   # or the flexible-option spelling, checked by the core

or a Python module exposing ``VARIANTS`` (a list of ``VariantSpec`` or dicts), named as ``package.module`` or
``package.module:ATTRIBUTE``. ``plan()`` compares the declaration with the account (like ``terraform plan``);
``apply()`` creates and updates, and with ``prune=True`` deletes variants that are not declared — never
``public``, which Cloudflare does not allow to be deleted.
"""

from __future__ import annotations

import difflib
import importlib
import json
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ._errors import CFVariantsError
from ._options import Options
from .limits import VARIANT_ID_PATTERN

if TYPE_CHECKING:
    from .client._models import Variant

__all__ = [
    "PROTECTED_VARIANTS",
    "Change",
    "Plan",
    "VariantDeclarationError",
    "VariantSpec",
    "account_variants",
    "apply",
    "execute",
    "load",
    "plan",
    "to_toml",
]

PROTECTED_VARIANTS = frozenset({"public"})
"""Variants ``apply`` never deletes: Cloudflare's ``public`` cannot be removed."""
NamedFit = Literal["scale-down", "contain", "cover", "crop", "pad"]
_VARIANT_ID = VARIANT_ID_PATTERN
_DEFAULT_FIT: NamedFit = "scale-down"
NamedMetadata = Literal["keep", "copyright", "none"]
_DEFAULT_METADATA: NamedMetadata = "none"


class VariantDeclarationError(CFVariantsError, ValueError):
    """A declaration file or module is missing, malformed, or declares an invalid variant."""


class VariantSpec(BaseModel):
    """One declared named variant (an id of 1-99 letters and digits, at most 100 per account): resize box, fit,
    metadata, and whether private images may be served through it without a signature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    fit: NamedFit = _DEFAULT_FIT
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    metadata: NamedMetadata = _DEFAULT_METADATA
    never_require_signed_urls: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_option_string(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "options" not in data:
            return data
        data = dict(data)
        text = data.pop("options")
        options = Options.parse(text) if isinstance(text, str) else Options.coerce(text)
        extra = set(options.to_kwargs()) - {"width", "height", "fit", "metadata"}
        if extra:
            raise ValueError(
                f"options {str(options)!r}: a named variant only takes width, height, fit and metadata "
                f"(not {', '.join(sorted(extra))})"
            )
        for name, value in options.to_kwargs().items():
            data.setdefault(name, value)
        return data

    @model_validator(mode="after")
    def _check_id(self) -> VariantSpec:
        if not _VARIANT_ID.fullmatch(self.id):
            raise ValueError(f"variant id {self.id!r} must be letters and digits only, at most 99 characters")
        return self

    @property
    def options(self) -> Options:
        """The same resize as flexible options (what the emulator renders for this variant)."""
        return Options(width=self.width, height=self.height, fit=self.fit, metadata=self.metadata)

    def api_body(self) -> dict[str, Any]:
        """The JSON body Cloudflare's variants endpoints take."""
        return {
            "id": self.id,
            "options": {"fit": self.fit, "width": self.width, "height": self.height, "metadata": self.metadata},
            "neverRequireSignedURLs": self.never_require_signed_urls,
        }

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``ImagesClient.create_variant``/``update_variant``."""
        return {
            "fit": self.fit,
            "width": self.width,
            "height": self.height,
            "metadata": self.metadata,
            "never_require_signed_urls": self.never_require_signed_urls,
        }

    def describe(self) -> str:
        signed = ", never requires signed URLs" if self.never_require_signed_urls else ""
        return f"fit={self.fit}, {self.width}x{self.height}, metadata={self.metadata}{signed}"

    @classmethod
    def from_account(cls, variant: Variant) -> VariantSpec:
        """The account's variant in declaration form (missing fields take Cloudflare's defaults)."""
        options = variant.options
        return cls(
            id=variant.id,
            fit=options.fit or _DEFAULT_FIT,
            width=options.width or 1,
            height=options.height or 1,
            metadata=options.metadata or _DEFAULT_METADATA,
            never_require_signed_urls=variant.never_require_signed_urls,
        )


# -- loading ---------------------------------------------------------------------------------------------------


def load(source: str | Path) -> list[VariantSpec]:
    """Read declarations from a ``.toml`` file or a Python module (``pkg.mod`` or ``pkg.mod:ATTR``)."""
    text = str(source)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return _load_toml(path)
    return _load_module(text)


def _load_toml(path: Path) -> list[VariantSpec]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VariantDeclarationError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise VariantDeclarationError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("variants")
    if not isinstance(table, dict) or not table:
        raise VariantDeclarationError(f"{path}: expected [variants.<name>] tables, found none")
    specs = []
    for name, body in table.items():
        if not isinstance(body, dict):
            raise VariantDeclarationError(f"{path}: [variants.{name}] must be a table of fit/width/height/metadata")
        specs.append(_spec({"id": name, **body}, f"{path}: [variants.{name}]"))
    return _unique(specs, str(path))


def _load_module(reference: str) -> list[VariantSpec]:
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise VariantDeclarationError(f"cannot import {module_name!r} to read variants: {exc}") from None
    attribute = attribute or "VARIANTS"
    declared = getattr(module, attribute, None)
    if declared is None:
        raise VariantDeclarationError(f"{module_name} has no {attribute} (a list of VariantSpec or dicts)")
    return declarations(declared, where=reference)


def declarations(
    declared: Iterable[VariantSpec | Mapping[str, Any]], *, where: str = "declarations"
) -> list[VariantSpec]:
    """Validate an in-code list of declarations (``VariantSpec`` objects or dicts)."""
    specs = [item if isinstance(item, VariantSpec) else _spec(item, where) for item in declared]
    return _unique(specs, where)


def _spec(data: Mapping[str, Any], where: str) -> VariantSpec:
    try:
        return VariantSpec.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors(include_url=False))
        raise VariantDeclarationError(f"{where}: {problems}") from None
    except CFVariantsError as exc:
        raise VariantDeclarationError(f"{where}: {exc}") from None


_FIELDS = ("fit", "width", "height", "metadata", "never_require_signed_urls", "options")
_CHOICES: dict[str, tuple[str, ...]] = {"fit": get_args(NamedFit), "metadata": get_args(NamedMetadata)}


def _problem(error: Any) -> str:
    """One validation error of a declaration, in its terms: the field, what it takes, and a likely intended name
    or value ("did you mean 'width'?") instead of pydantic's generic wording."""
    field = ".".join(str(part) for part in error["loc"]) or "variant"
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return f"{field}: unknown field{_did_you_mean(field, _FIELDS)} (a variant takes {', '.join(_FIELDS)})"
    if kind == "missing":
        return f"{field}: missing; every variant needs width and height (or options = 'w=...,h=...')"
    if field in _CHOICES:
        choices = _CHOICES[field]
        return f"{field}: must be one of {', '.join(choices)}, not {value!r}{_did_you_mean(str(value), choices)}"
    if field in ("width", "height"):
        return f"{field}: must be a whole number of pixels, at least 1, not {value!r}"
    if field == "never_require_signed_urls":
        return f"{field}: must be true or false, not {value!r}"
    return f"{field}: {error['msg'].removeprefix('Value error, ')}"


def _did_you_mean(given: str, known: Sequence[str]) -> str:
    guess = difflib.get_close_matches(given.lower(), known, n=1, cutoff=0.5)
    return f"; did you mean {guess[0]!r}?" if guess else ""


def _unique(specs: list[VariantSpec], where: str) -> list[VariantSpec]:
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise VariantDeclarationError(f"{where}: variant {spec.id!r} is declared twice")
        seen.add(spec.id)
    return specs


# -- planning --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One step of a plan: ``create``, ``update`` or ``delete`` a variant (``before``/``after`` as declared)."""

    action: Literal["create", "update", "delete"]
    id: str
    before: VariantSpec | None = None
    after: VariantSpec | None = None

    def fields_changed(self) -> list[tuple[str, Any, Any]]:
        if self.before is None or self.after is None:
            return []
        old, new = self.before.model_dump(), self.after.model_dump()
        return [(name, old[name], new[name]) for name in old if old[name] != new[name]]

    def describe(self) -> str:
        if self.action == "create" and self.after is not None:
            return f"+ create {self.id}: {self.after.describe()}"
        if self.action == "delete":
            return f"- delete {self.id}"
        changes = ", ".join(f"{name} {old} -> {new}" for name, old, new in self.fields_changed())
        return f"~ update {self.id}: {changes}"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "id": self.id,
            "before": self.before.model_dump() if self.before else None,
            "after": self.after.model_dump() if self.after else None,
        }


@dataclass(frozen=True)
class Plan:
    """The difference between the declaration and the account. Empty when they agree."""

    changes: tuple[Change, ...]
    unchanged: tuple[str, ...] = ()
    kept: tuple[str, ...] = field(default=())  # undeclared variants left alone (no prune, or protected)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def describe(self) -> str:
        if self.is_empty:
            lines = ["No changes: the account's variants match the declaration."]
        else:
            counts = {a: sum(c.action == a for c in self.changes) for a in ("create", "update", "delete")}
            lines = [change.describe() for change in self.changes]
            lines.append(
                f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete."
            )
        if self.kept:
            lines.append(f"Not declared, left alone: {', '.join(self.kept)}")
        return "\n".join(lines)

    def to_json(self) -> str:
        body = {"changes": [c.to_json() for c in self.changes], "unchanged": list(self.unchanged)}
        return json.dumps({**body, "kept": list(self.kept)}, indent=2)


def plan(declared: Sequence[VariantSpec], account: Iterable[Variant | VariantSpec], *, prune: bool = False) -> Plan:
    """What ``apply`` would do to make the account match ``declared``."""
    current = {v.id: v if isinstance(v, VariantSpec) else VariantSpec.from_account(v) for v in account}
    changes: list[Change] = []
    unchanged: list[str] = []
    for spec in declared:
        existing = current.get(spec.id)
        if existing is None:
            changes.append(Change("create", spec.id, after=spec))
        elif existing != spec:
            changes.append(Change("update", spec.id, before=existing, after=spec))
        else:
            unchanged.append(spec.id)
    declared_ids = {spec.id for spec in declared}
    kept = []
    for name in sorted(set(current) - declared_ids):
        if prune and name not in PROTECTED_VARIANTS:
            changes.append(Change("delete", name, before=current[name]))
        else:
            kept.append(name)
    return Plan(tuple(changes), tuple(unchanged), tuple(kept))


class _VariantsAPI(Protocol):
    """The part of ``cfvariants.client.ImagesClient`` that ``apply`` uses."""

    def list_variants(self) -> Any: ...
    def create_variant(
        self,
        variant: str,
        /,
        *,
        fit: str | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        metadata: str | None = ...,
        never_require_signed_urls: bool | None = ...,
    ) -> Any: ...
    def update_variant(
        self,
        variant: str,
        /,
        *,
        fit: str | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        metadata: str | None = ...,
        never_require_signed_urls: bool | None = ...,
    ) -> Any: ...
    def delete_variant(self, variant_id: str, /) -> Any: ...


def apply(client: _VariantsAPI, declared: Sequence[VariantSpec], *, prune: bool = False) -> Plan:
    """Make the account match ``declared``; returns the plan that was carried out."""
    todo = plan(declared, account_variants(client), prune=prune)
    execute(client, todo)
    return todo


def execute(client: _VariantsAPI, todo: Plan, *, on_change: Callable[[Change], None] | None = None) -> None:
    """Carry out ``todo`` change by change, in order (e.g. a plan the user has seen and confirmed);
    ``on_change`` is called after each change is made. A failure stops here: earlier changes stay made."""
    for change in todo.changes:
        if change.action == "create" and change.after is not None:
            client.create_variant(change.id, **change.after.client_kwargs())
        elif change.action == "update" and change.after is not None:
            client.update_variant(change.id, **change.after.client_kwargs())
        elif change.action == "delete":
            if change.id in PROTECTED_VARIANTS:
                raise VariantDeclarationError(
                    f"variant {change.id!r} cannot be deleted (Cloudflare keeps it on every account)"
                )
            client.delete_variant(change.id)
        else:
            raise VariantDeclarationError(f"change {change.action} {change.id!r} has no declaration to apply")
        if on_change is not None:
            on_change(change)


def account_variants(client: _VariantsAPI) -> list[VariantSpec]:
    """The account's named variants in declaration form, sorted by id."""
    listed = client.list_variants()
    variants = listed.values() if isinstance(listed, Mapping) else listed
    specs = [v if isinstance(v, VariantSpec) else VariantSpec.from_account(v) for v in variants]
    return sorted(specs, key=lambda spec: spec.id)


def to_toml(specs: Iterable[VariantSpec]) -> str:
    """A ``variants.toml`` declaring ``specs`` (what ``load`` reads back to equal specs)."""
    blocks = []
    for spec in specs:
        lines = [
            f"[variants.{spec.id}]",
            f'fit = "{spec.fit}"',
            f"width = {spec.width}",
            f"height = {spec.height}",
            f'metadata = "{spec.metadata}"',
        ]
        if spec.never_require_signed_urls:
            lines.append("never_require_signed_urls = true")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
