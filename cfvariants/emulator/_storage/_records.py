"""What the emulator stores: plain, immutable records passed between the store, the API and delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cfvariants._options import Options
from cfvariants.imaging import ImageInfo


def nanoseconds(seconds: float) -> int:
    """A clock reading (unix seconds) as the integer nanoseconds records keep (``uploaded_ns``...)."""
    return int(seconds * 1_000_000_000)


def iso_time(seconds: float) -> str:
    """``2014-01-02T02:20:00.123Z``: the shape of ``uploaded`` in Cloudflare's image objects."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ImageRecord:
    """One image (or a direct-upload draft still waiting for its file)."""

    id: str
    filename: str
    meta: dict[str, Any]
    require_signed_urls: bool
    creator: str | None
    uploaded_ns: int  # unix nanoseconds: upload time (drafts: creation time)
    draft: bool = False
    upload_expires: float | None = None  # drafts only
    file_key: str | None = None  # name of the original on disk; None for drafts
    info: ImageInfo | None = None  # None for drafts
    seq: int = 0  # insertion order, the tie-breaker for equal upload times

    @property
    def uploaded(self) -> float:
        return self.uploaded_ns / 1e9


@dataclass(frozen=True)
class VariantRecord:
    """A named variant: an id of 1-99 letters and digits, at most 100 per account; ``public`` stays."""

    id: str
    fit: str
    width: int
    height: int
    metadata: str
    never_require_signed_urls: bool = False
    browser_ttl: int | None = None

    def as_options(self) -> Options:
        """The definition as the core's ``Options``: what the renderer applies, and (as text) the cache key."""
        return Options(width=self.width, height=self.height, fit=self.fit, metadata=self.metadata)

    def options_dict(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "fit": self.fit,
            "metadata": self.metadata,
            "width": self.width,
            "height": self.height,
        }
        if self.browser_ttl is not None:
            options["browser_ttl"] = self.browser_ttl
        return options


@dataclass(frozen=True)
class SigningKeyRecord:
    """A signing key the emulator keeps: its name and value (the value stays out of the repr)."""

    name: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class AccountSettings:
    """The account-level delivery settings of ``/images/v1/config`` (documented; not in the OpenAPI schema)."""

    flexible_variants: bool
    browser_ttl: int
    preserve_content_credentials: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "flexible_variants": self.flexible_variants,
            "browser_ttl": self.browser_ttl,
            "preserve_content_credentials": self.preserve_content_credentials,
        }
