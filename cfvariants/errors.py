"""The exceptions of the core, one tree so callers can catch exactly what they mean.

Every error here is also a ``ValueError`` (bad input is a bad value), so code that already guards with
``except ValueError`` keeps working. Messages name the bad part and never contain a secret.
"""

from __future__ import annotations

__all__ = [
    "CFVariantsError",
    "ImageIdError",
    "OptionsError",
    "SettingsError",
    "SigningError",
    "URLError",
    "VariantError",
]


class CFVariantsError(ValueError):
    """Base of every error raised by cfvariants."""


class OptionsError(CFVariantsError):
    """A flexible-variant option string or keyword is invalid.

    ``part`` is the offending ``name=value`` piece (or the keyword), ``options`` the whole input when it was a
    string, ``reason`` the rule that was broken.
    """

    def __init__(self, reason: str, *, part: str | None = None, options: str | None = None) -> None:
        self.reason = reason
        self.part = part
        self.options = options
        message = f'"{_clip(part)}": {reason}' if part is not None else reason
        if options is not None and options != part:
            message = f"invalid flexible-variant options {_clip(options)!r}: {message}"
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:  # keep keyword-only args through pickling (task queues)
        return (_rebuild_options_error, (self.reason, self.part, self.options))


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for a message, at most ``limit`` characters (the repr of a 5,000-digit int raises)."""
    try:
        text = repr(value)
    except ValueError:  # an int too large to convert to text
        return "an integer too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _clip(text: str, limit: int = 200) -> str:
    """The start of a long input: a message names the bad part, it need not repeat 5,000 characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rebuild_options_error(reason: str, part: str | None, options: str | None) -> OptionsError:
    return OptionsError(reason, part=part, options=options)


class VariantError(CFVariantsError):
    """A variant name or a variant/option combination is not allowed (e.g. srcset of a named variant)."""


class ImageIdError(CFVariantsError):
    """An image id cannot be put into a delivery URL (empty segment, ``..``, leading ``/``...)."""


class URLError(CFVariantsError):
    """A string is not a Cloudflare Images delivery URL."""


class SigningError(CFVariantsError):
    """A signed URL cannot be produced (no key, flexible options, bad expiry)."""


class SettingsError(CFVariantsError):
    """Configuration is missing or unusable (the message names the environment variable)."""
