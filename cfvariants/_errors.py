"""One tree of exceptions: every error cfvariants raises derives from ``CFVariantsError``.

``except CFVariantsError`` catches anything the library raises on purpose; each branch names what a caller
handles differently. Errors about a bad value (options, ids, settings, a declaration, an upload Cloudflare
would refuse) are also ``ValueError``, so ``except ValueError`` keeps working for them; failures of the
service or the network (``APIError``, ``TransportError``) are not. Messages name the bad part and never contain
a secret (a token, a signing key, a webhook secret).

The tree (class, the package that defines it, other bases; ``tests/core/test_errors_tree.py`` keeps it true)::

    CFVariantsError                     cfvariants
    ├── ArgumentError                   cfvariants            also ValueError
    ├── OptionsError                    cfvariants            also ValueError
    ├── VariantError                    cfvariants            also ValueError
    ├── ImageIdError                    cfvariants            also ValueError
    ├── URLError                        cfvariants            also ValueError
    ├── SigningError                    cfvariants            also ValueError
    ├── SettingsError                   cfvariants            also ValueError
    │   └── ConfigurationError          cfvariants.django     also ImproperlyConfigured
    ├── ThumbHashError                  cfvariants            also ValueError
    ├── NoZoneError                     cfvariants            also ValueError
    ├── TemplateFilterError             cfvariants            also ValueError
    ├── VariantDeclarationError         cfvariants            also ValueError
    ├── DirectUploadError               cfvariants            also ValueError
    ├── MigrationSetupError             cfvariants.migrate    also ValueError
    ├── UploadsError                    cfvariants.uploads    also ValueError
    │   ├── StorageFull                 cfvariants.uploads
    │   ├── UploadTooLarge              cfvariants.uploads
    │   └── UploadRejected              cfvariants.uploads
    ├── ImageRejected                   cfvariants.imaging
    ├── SVGError                        cfvariants.imaging    also ValueError
    ├── CloudflareImagesError           cfvariants.client
    │   ├── ValidationError             cfvariants.client     also ValueError
    │   ├── APIError                    cfvariants.client
    │   │   ├── AuthenticationError     cfvariants.client
    │   │   ├── NotFoundError           cfvariants.client
    │   │   ├── ConflictError           cfvariants.client
    │   │   └── RateLimitError          cfvariants.client
    │   └── TransportError              cfvariants.client
    ├── EmulatorError                   cfvariants
    │   ├── EmulatorAPIError            cfvariants.emulator
    │   ├── DeliveryError               cfvariants.emulator
    │   └── DuplicateError              cfvariants.emulator
    ├── Unreachable                     cfvariants.cli
    ├── UsageLine                       cfvariants.cli        also UsageError
    └── CLIError                        cfvariants.cli        also ClickException
        ├── CLIUsageError               cfvariants.cli
        └── Interrupted                 cfvariants.cli
"""

from __future__ import annotations

from typing import Any


class CFVariantsError(Exception):
    """Base of every error raised by cfvariants."""


class OptionsError(CFVariantsError, ValueError):
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
        return (type(self)._unpickle, (self.reason, self.part, self.options))

    @classmethod
    def _unpickle(cls, *args: Any) -> Any:
        """Rebuilds a pickled OptionsError: pickles name the public class, not a private module."""
        return _rebuild_options_error(*args)


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


class VariantError(CFVariantsError, ValueError):
    """A variant name or a variant/option combination is not allowed (e.g. srcset of a named variant)."""


class ImageIdError(CFVariantsError, ValueError):
    """An image id cannot be put into a delivery URL (empty segment, ``..``, leading ``/``...)."""


class URLError(CFVariantsError, ValueError):
    """A string is not a Cloudflare Images delivery URL."""


class SigningError(CFVariantsError, ValueError):
    """A signed URL cannot be produced (no key, flexible options, bad expiry)."""


class SettingsError(CFVariantsError, ValueError):
    """Configuration is missing or unusable (the message names the environment variable)."""


class ArgumentError(CFVariantsError, ValueError):
    """An argument is not a value the call accepts (a size that is not a positive integer, an unknown layout,
    alt text that is not a string...); the message names the argument."""


class EmulatorError(CFVariantsError):
    """Base of the local emulator's errors: what it answers a request with (an HTTP status and Cloudflare's
    numeric code), raised inside the emulator and turned into a response there."""
