"""``ImageFilters``: the engine-neutral half of every template adapter (Jinja, Django, Flask).

Template adapters are thin: each engine's glue maps its calling conventions onto the methods here, and these
call ``Delivery`` (hosted images) or ``Transformations`` (images anywhere) and nothing else to build URLs and
markup. What lives here is what templates need beyond the core: reading template values (``image_ref``), choosing
the URL form by what the value is, the error policy, and a missing-image placeholder.

Which form. A Cloudflare Images id or delivery URL, or a file of the Cloudflare Images storage, goes through
``Delivery``. A path or URL of any other image (``/media/cat.jpg``, ``https://bucket.s3.../cat.jpg``, a file of
``FileSystemStorage`` or S3) goes through ``Transformations`` on the configured zone; with no zone configured that
is a ``NoZoneError``, raised under ``on_error="raise"`` and, under ``"fallback"``, answered with the plain,
untransformed URL of that same image. No path ever yields a URL of a different image.

Private images. A ``PrivateImage`` (a file of a Django storage with ``require_signed_urls=True``, an API
``Image`` or upload record that is private) gets signed URLs from every filter, ``variant`` included, expiring after
``signed_expires_in``: an unsigned URL of a private image is refused by Cloudflare. What cannot be signed (flexible
options, a srcset or layout, no signing key) is an error naming the image and the fix; under ``"fallback"`` the
page shows the image's signed ``public`` URL, or the placeholder when nothing can sign, never an unsigned URL.

Error policy. ``on_error="raise"`` (the default; for development and tests) raises ``TemplateFilterError`` naming
the filter, the template value and the arguments. ``on_error="fallback"`` (production) keeps the page rendering:
the unmodified URL (a stored delivery URL as it is, an id's ``public`` URL) or, when there is none, the
placeholder (a failed signed URL prefers the placeholder: the unsigned URL of a private image never loads), and
logs one warning per distinct (filter, arguments, kind of problem), never per render. A missing
image (``None``, ``""``, undefined) is not an error under either policy: it renders the placeholder or nothing.
Configuration errors (no account hash) always raise: no page can be right without one.

The happy path costs one type check and one ``Delivery`` call; all of the above happens in ``except`` branches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from markupsafe import Markup

from ._delivery import Delivery
from ._errors import ArgumentError, CFVariantsError, SettingsError, SigningError
from ._html import ImageMarkup, Source, attr_name, render_attrs
from ._options import Options
from ._refs import LocalImage, PrivateImage, RemoteImage, image_original, image_ref
from ._segments import VariantLike, keyword_options
from ._settings import Settings
from ._transformations import Transformations
from ._urls import TRANSFORM_PREFIX, is_remote_source, is_url, parse_transformation_url

OnError = Literal["raise", "fallback"]
ON_ERROR_CHOICES: tuple[OnError, ...] = ("raise", "fallback")
DEFAULT_SIGNED_EXPIRES_IN = 3600
_MAX_WARNED = 1024

DeliverySource = Delivery | Callable[[], Delivery] | None
"""A ``Delivery``; a function that builds one on first use; or ``None`` for ``Delivery.from_settings()``."""

TransformationsSource = Transformations | Callable[[], Transformations | None] | None
"""A ``Transformations``; a function that builds one on first use (``None`` from it: no zone); or ``None`` for
``CF_IMG_ZONE`` from the environment when it is set."""
_MAYBE_REMOTE = ("/", "http", "HTTP")  # a str starting otherwise is an image id: straight to Delivery


class NoZoneError(CFVariantsError, ValueError):
    """An image outside Cloudflare Images met templates configured without a zone for Image Transformations."""


class TemplateFilterError(CFVariantsError, ValueError):
    """A template filter or tag could not produce its URL or markup; the message names the filter, the template
    value and the arguments, and the original error is kept as ``__cause__``."""


class ImageFilters:
    """The template helpers of one ``Delivery``: ``variant``, ``signed_variant``, ``url``, ``srcset``, ``img``,
    ``picture``, each applying the error policy. Engines register (or wrap) these methods as filters and tags.

    Mutable on purpose: ``configure()`` re-points an instance whose methods are already registered in an engine.
    """

    __slots__ = (
        "_delivery", "_expires_in", "_logger", "_on_error", "_placeholder", "_signing", "_source",
        "_transformations", "_transformations_source", "_url", "_warned",
    )  # fmt: skip

    _delivery: Delivery | None
    _signing: _SignedMarkup | None
    _url: Callable[..., str]
    _transformations: Transformations | None
    _transformations_source: Callable[[], Transformations | None] | None

    def __init__(
        self,
        delivery: DeliverySource = None,
        *,
        on_error: OnError | Callable[[], OnError] = "raise",
        placeholder: str | None = None,
        logger: logging.Logger | None = None,
        signed_expires_in: int | float | timedelta = DEFAULT_SIGNED_EXPIRES_IN,
        transformations: TransformationsSource = None,
    ) -> None:
        self._warned: set[tuple[str, str, str]] = set()
        self.configure(
            delivery, on_error=on_error, placeholder=placeholder, logger=logger, signed_expires_in=signed_expires_in,
            transformations=transformations,
        )  # fmt: skip

    def configure(
        self,
        delivery: DeliverySource = None,
        *,
        on_error: OnError | Callable[[], OnError] = "raise",
        placeholder: str | None = None,
        logger: logging.Logger | None = None,
        signed_expires_in: int | float | timedelta = DEFAULT_SIGNED_EXPIRES_IN,
        transformations: TransformationsSource = None,
    ) -> None:
        """(Re)set everything; the methods already registered as filters follow. ``transformations`` builds the
        URLs of images outside Cloudflare Images (``None``: ``CF_IMG_ZONE`` when set, else no zone)."""
        if not (on_error in ON_ERROR_CHOICES or callable(on_error)):
            raise SettingsError(f"on_error must be 'raise' or 'fallback', not {on_error!r}")
        if placeholder is not None and not isinstance(placeholder, str):
            raise SettingsError(f"placeholder must be an image URL (str) or None, not {type(placeholder).__name__}")
        if isinstance(signed_expires_in, bool) or not isinstance(signed_expires_in, int | float | timedelta):
            raise SettingsError(f"signed_expires_in must be seconds or a timedelta, not {signed_expires_in!r}")
        seconds = signed_expires_in.total_seconds() if isinstance(signed_expires_in, timedelta) else signed_expires_in
        if seconds <= 0:
            raise SettingsError(f"signed_expires_in must be positive, not {signed_expires_in!r}")
        if not (delivery is None or isinstance(delivery, Delivery) or callable(delivery)):
            raise SettingsError(f"delivery must be a cfvariants.Delivery, not {type(delivery).__name__}")
        if not (transformations is None or isinstance(transformations, Transformations) or callable(transformations)):
            raise SettingsError(
                f"transformations must be a cfvariants.Transformations, not {type(transformations).__name__}"
            )
        # Validated above, applied together below: a refused configuration leaves the previous one intact.
        self._on_error = on_error
        self._placeholder = placeholder or None
        self._logger = logger if logger is not None else logging.getLogger("cfvariants.templates")
        self._expires_in = signed_expires_in
        self._signing = None
        self._warned.clear()
        if isinstance(delivery, Delivery):
            self._delivery, self._source = delivery, None
            self._url = delivery.url
        else:
            self._delivery, self._source = None, delivery or Delivery.from_settings
            self._url = self._url_after_loading
        if isinstance(transformations, Transformations):
            self._transformations, self._transformations_source = transformations, None
        else:
            self._transformations, self._transformations_source = None, transformations or _zone_from_settings

    @property
    def delivery(self) -> Delivery:
        """The ``Delivery`` (built on first use when configured with a factory or from settings)."""
        delivery = self._delivery
        if delivery is None:
            assert self._source is not None
            try:
                delivery = self._source()
            except SettingsError:
                raise
            except CFVariantsError as exc:  # e.g. a bad domain: never a per-value problem, always raised
                raise SettingsError(f"cannot build the Delivery for templates: {exc}") from exc
            if not isinstance(delivery, Delivery):
                raise SettingsError(f"the delivery factory returned a {type(delivery).__name__}, not a Delivery")
            self._delivery = delivery
            self._url = delivery.url
        return delivery

    @property
    def transformations(self) -> Transformations | None:
        """The ``Transformations`` for images outside Cloudflare Images, or ``None`` when no zone is configured."""
        if self._transformations is None and self._transformations_source is not None:
            try:
                built = self._transformations_source()
            except SettingsError:
                raise
            except CFVariantsError as exc:  # a bad zone: a configuration problem, always raised
                raise SettingsError(f"cannot build the Transformations for templates: {exc}") from exc
            if built is not None and not isinstance(built, Transformations):
                raise SettingsError(f"the transformations factory returned a {type(built).__name__}")
            self._transformations, self._transformations_source = built, None
        return self._transformations

    def _signed_markup(self) -> _SignedMarkup:
        """The markup builder of private images: this Delivery, every URL signed."""
        signing = self._signing
        if signing is None or signing.delivery is not self.delivery:
            signing = self._signing = _SignedMarkup(self.delivery, self._expires_in)
        return signing

    def _markup_target(self, ref: str) -> tuple[Delivery | Transformations | _SignedMarkup, str]:
        """``_target`` for markup: a private image's markup signs every URL."""
        if ref.__class__ is PrivateImage:
            return self._signed_markup(), ref
        return self._target(ref)

    def _target(self, ref: str) -> tuple[Delivery | Transformations, str]:
        """The builder for ``ref`` and what to give it: ``Delivery`` and the ref for a hosted image,
        ``Transformations`` and the source for any other (a transformation URL gives its own source)."""
        if ref.__class__ is not RemoteImage and not is_remote_source(ref):
            return self.delivery, ref
        transformations = self.transformations
        if transformations is None:
            raise NoZoneError(
                f"{_show(str(ref))} is an image outside Cloudflare Images (a path or URL, or a file of a storage "
                "other than CloudflareImagesStorage); resizing it needs Image Transformations on your zone: set "
                "CF_IMG_ZONE (Django: CFVARIANTS['ZONE'], Flask: CFVARIANTS_ZONE). Without a zone, production "
                "renders its plain URL"
            )
        if TRANSFORM_PREFIX in ref:
            return transformations, parse_transformation_url(str(ref)).source
        return transformations, str(ref)

    @property
    def placeholder(self) -> str | None:
        return self._placeholder

    def _url_after_loading(self, image: str, variant: VariantLike = None, **options: Any) -> str:
        return self.delivery.url(image, variant, **options)

    # -- filters ----------------------------------------------------------------------------------------------------

    def variant(self, value: object, /, variant: VariantLike = None, **options: Any) -> str:
        """The URL of ``value`` through ``variant`` (and/or keyword options); the ``variant`` filter."""
        if value.__class__ is str and not value.startswith(_MAYBE_REMOTE):
            try:
                return self._url(value, variant, **options)
            except CFVariantsError as exc:
                return self._url_failed("variant filter", value, variant, options, exc)
        return self.url("variant filter", value, variant, **options)

    def signed_variant(
        self,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | float | None = None,
    ) -> str:
        """A signed URL through a named variant, expiring after the configured default unless told otherwise."""
        return self.url(
            "signed_variant filter", value, variant, signed=True, expires_in=expires_in, expires_at=expires_at
        )

    def url(
        self,
        label: str,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        signed: bool = False,
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | float | None = None,
        **options: Any,
    ) -> str:
        """A delivery URL, signed if asked; ``label`` names the filter or tag in errors (``"cf_url tag"``)."""
        ref: str | None = None
        try:
            ref = image_ref(value)
            if ref is None:
                return self._placeholder or ""
            if ref.__class__ is LocalImage:
                return str(ref)
            builder, target = self._target(ref)
            if isinstance(builder, Transformations):
                if signed:
                    raise ArgumentError(
                        "an image outside Cloudflare Images cannot get a signed URL: Cloudflare signs hosted images "
                        "only (control access to the source itself)"
                    )
                return builder.url(target, variant, **options)
            if ref.__class__ is PrivateImage:
                return self._signed_markup().signed_url(ref, variant, options, expires_in, expires_at)
            if not signed:
                return self._url(ref, variant, **options)
            if expires_in is None and expires_at is None:
                expires_in = self._expires_in
            signed_variant = keyword_options(variant, options) if options else variant
            return self.delivery.signed_url(ref, signed_variant, expires_in=expires_in, expires_at=expires_at)
        except CFVariantsError as exc:
            details = _drop_none(expires_in=expires_in, expires_at=expires_at, **options)
            if signed and self._placeholder and ref is not None and ref.__class__ is not PrivateImage:
                # an unsigned URL of a private image never loads (a PrivateImage falls back to its signed URL)
                self._raise_or_warn(label, value, ref, variant, details, exc)
                return self._placeholder
            return self._url_failed(label, value, variant, details, exc, ref)

    def srcset(
        self,
        label: str,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        widths: Iterable[int | str] | str | None = None,
        densities: Iterable[float | str] | str | None = None,
        min_width: int | None = None,
        max_width: int | None = None,
        tolerance: float | None = None,
        layout: str | None = None,
        original: object = None,
        **options: Any,
    ) -> str:
        """A ``srcset`` value; ``widths``/``densities`` may also be strings (``"320,640"``, ``"1x,2x"``); with a
        ``layout``, ``width``/``height`` are its CSS size (numbers or digit strings)."""
        ref: str | None = None
        try:
            ref = image_ref(value)
            if ref is None:
                return self._placeholder or ""
            if ref.__class__ is LocalImage:
                return str(ref)  # one candidate, no descriptor: the browser takes it as 1x
            if ref.__class__ is PrivateImage:
                raise _private_error(ref, f"it {_NO_SRCSET}")
            builder, target = self._target(ref)
            if layout is not None:
                sized = _sizing(value, layout, options.pop("width", None), options.pop("height", None), original)
                options.update(width=sized["width"], height=sized["height"])
                original = sized["original"]
            return builder.srcset(
                target, variant, widths=_widths(widths), densities=_densities(densities), min_width=min_width,
                max_width=max_width, tolerance=tolerance, layout=layout, original=original, **options,
            )  # fmt: skip
        except CFVariantsError as exc:
            details = _drop_none(widths=widths, densities=densities, min_width=min_width, max_width=max_width,
                                 tolerance=tolerance, layout=layout, **options)  # fmt: skip
            return self._url_failed(label, value, variant, details, exc, ref)

    def img(
        self,
        label: str,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        alt: object = None,
        layout: str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        original: object = None,
        priority: bool = False,
        widths: Iterable[int | str] | str | None = None,
        densities: Iterable[float | str] | str | None = None,
        sizes: str | None = None,
        placeholder: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """An ``<img>`` tag (``Delivery.img``); without an image: the placeholder's tag, or nothing. With a
        ``layout`` and no ``original``, the original's size is read from the value (``refs.image_original``)."""
        ref: str | None = None
        try:
            ref = image_ref(value)
            if ref is None or ref.__class__ is LocalImage:
                return self._fallback_img(ref, alt, attrs)
            text = _alt_text(label, alt)
            if widths is not None or densities is not None:
                widths, densities = _widths(widths), _densities(densities)
            markup, target = self._markup_target(ref)
            return markup.img(
                target, variant, alt=text, widths=widths, densities=densities, sizes=sizes,
                placeholder=placeholder, priority=priority, **_sizing(value, layout, width, height, original),
                **attrs,
            )  # fmt: skip
        except CFVariantsError as exc:
            details = _drop_none(layout=layout, width=width, height=height, priority=priority or None,
                                 widths=widths, densities=densities, sizes=sizes, placeholder=placeholder,
                                 **attrs)  # fmt: skip
            return self._img_failed(label, value, variant, details, exc, ref, alt, attrs)

    def preload(
        self,
        label: str,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        layout: str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        original: object = None,
        widths: Iterable[int | str] | str | None = None,
        densities: Iterable[float | str] | str | None = None,
        sizes: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """``<link rel="preload" as="image" ...>`` for the ``<head>`` (``Delivery.preload_link``), with the same
        arguments as the ``img`` it speeds up; nothing without an image (or on an error under ``fallback``)."""
        ref: str | None = None
        try:
            ref = image_ref(value)
            if ref is None or ref.__class__ is LocalImage:
                return Markup("")
            if widths is not None or densities is not None:
                widths, densities = _widths(widths), _densities(densities)
            markup, target = self._markup_target(ref)
            return markup.preload_link(
                target, variant, widths=widths, densities=densities, sizes=sizes,
                **_sizing(value, layout, width, height, original), **attrs,
            )  # fmt: skip
        except CFVariantsError as exc:
            details = _drop_none(layout=layout, width=width, height=height, widths=widths, densities=densities,
                                 sizes=sizes, **attrs)  # fmt: skip
            self._raise_or_warn(label, value, ref, variant, details, exc)
            return Markup("")  # a missing hint only costs speed

    def picture(
        self,
        label: str,
        value: object,
        /,
        variant: VariantLike = None,
        *,
        alt: object = None,
        formats: Iterable[str] | str = (),
        sources: Iterable[Source] = (),
        layout: str | None = None,
        width: int | str | None = None,
        height: int | str | None = None,
        original: object = None,
        priority: bool = False,
        widths: Iterable[int | str] | str | None = None,
        densities: Iterable[float | str] | str | None = None,
        sizes: str | None = None,
        placeholder: str | None = None,
        **attrs: Any,
    ) -> Markup:
        """A ``<picture>`` (``Delivery.picture``); ``formats`` may be a string (``"avif,webp"``)."""
        ref: str | None = None
        try:
            ref = image_ref(value)
            if ref is None or ref.__class__ is LocalImage:
                return self._fallback_img(ref, alt, attrs)
            text = _alt_text(label, alt)
            format_list = _parts(formats) if isinstance(formats, str) else formats
            markup, target = self._markup_target(ref)
            return markup.picture(
                target, variant, alt=text, formats=format_list, sources=sources, widths=_widths(widths),
                densities=_densities(densities), sizes=sizes, placeholder=placeholder, priority=priority,
                **_sizing(value, layout, width, height, original), **attrs,
            )  # fmt: skip
        except CFVariantsError as exc:
            details = _drop_none(formats=formats or None, layout=layout, width=width, height=height,
                                 priority=priority or None, widths=widths, densities=densities, sizes=sizes,
                                 placeholder=placeholder, **attrs)  # fmt: skip
            return self._img_failed(label, value, variant, details, exc, ref, alt, attrs)

    # -- the error policy -------------------------------------------------------------------------------------------

    def _url_failed(
        self,
        label: str,
        value: object,
        variant: VariantLike,
        details: Mapping[str, Any],
        exc: CFVariantsError,
        ref: str | None = None,
    ) -> str:
        if ref is None and not isinstance(exc, SettingsError):
            try:
                ref = image_ref(value)
            except CFVariantsError:
                pass
            else:
                if ref is None:  # "" reached Delivery on the fast path: a missing image, not an error
                    return self._placeholder or ""
        self._raise_or_warn(label, value, ref, variant, details, exc)
        return self._fallback_url(ref)

    def _img_failed(
        self,
        label: str,
        value: object,
        variant: VariantLike,
        details: Mapping[str, Any],
        exc: CFVariantsError,
        ref: str | None,
        alt: object,
        attrs: Mapping[str, Any],
    ) -> Markup:
        self._raise_or_warn(label, value, ref, variant, details, exc)
        return self._fallback_img(self._fallback_url(ref) if ref is not None else None, alt, attrs)

    def _raise_or_warn(
        self,
        label: str,
        value: object,
        ref: str | None,
        variant: VariantLike,
        details: Mapping[str, Any],
        exc: CFVariantsError,
    ) -> None:
        if isinstance(exc, SettingsError):
            raise exc
        arguments = _describe_arguments(variant, details)
        message = f"{label} on {_describe_value(value, ref)}{' with ' + arguments if arguments else ''}: {exc}"
        policy = self._on_error if isinstance(self._on_error, str) else self._on_error()
        if policy == "raise":
            raise TemplateFilterError(message) from exc
        key = (label, arguments, type(exc).__name__)
        if key in self._warned:
            return
        if len(self._warned) >= _MAX_WARNED:
            self._warned.clear()
        self._warned.add(key)
        self._logger.warning("%s (rendered the fallback; warned once per filter and arguments)", message)

    def _fallback_url(self, ref: str | None) -> str:
        """The unmodified URL: a stored http(s) URL or an image path as it is, an id's ``public`` URL (signed for a
        private image); else the placeholder."""
        if ref is not None:
            if ref.__class__ is PrivateImage:  # its signed public URL; an unsigned one would never load
                try:
                    return self.delivery.signed_url(ref, expires_in=self._expires_in)
                except CFVariantsError:
                    return self._placeholder or ""
            if is_url(ref) or ref.__class__ is RemoteImage or is_remote_source(ref):
                return str(ref)
            try:
                return self.delivery.url(ref)
            except CFVariantsError:
                pass
        return self._placeholder or ""

    def _fallback_img(self, src: str | None, alt: object, attrs: Mapping[str, Any]) -> Markup:
        """A plain ``<img>`` of ``src`` (or the placeholder) keeping the alt text and valid attributes; nothing when
        there is no URL at all (an ``<img src="">`` would only be a broken image)."""
        src = src or self._placeholder
        if not src:
            return Markup("")
        values: dict[str, Any] = {"src": src, "alt": "" if alt is None else str(alt)}
        values.update(loading="lazy", decoding="async")
        for name, value in attrs.items():
            try:
                values[attr_name(name)] = value
            except CFVariantsError:
                continue  # already reported; a bad attribute name is left out of the fallback
        return Markup(f"<img{render_attrs(values)}>")  # noqa: S704 - render_attrs escapes every value


# -- private images ---------------------------------------------------------------------------------------------------

_NO_SRCSET = (
    "has no srcset or layout: their candidates are flexible options, and Cloudflare serves private images only "
    "through signed URLs of named variants (use one named variant, e.g. cf_img x 'avatar', or make the image public)"
)
_NO_KEY_FIX = (
    "set the signing key: CF_IMG_SIGNING_KEY (Django: CFVARIANTS['SIGNING_KEY'], Flask: CFVARIANTS_SIGNING_KEY), "
    "listed under Images > Keys"
)


def _private_error(ref: str, reason: str) -> SigningError:
    return SigningError(
        f"{_show(str(ref))} is a private image (stored with requireSignedURLs: Cloudflare refuses its unsigned "
        f"URLs), so {reason}"
    )


class _SignedMarkup(ImageMarkup):
    """The URLs and markup of private images: ``Delivery``'s, every URL signed with the templates' lifetime.
    No srcset: its candidates would be flexible options, which Cloudflare never serves for a private image."""

    __slots__ = ("_expires_in", "delivery")

    def __init__(self, delivery: Delivery, expires_in: int | float | timedelta) -> None:
        self.delivery = delivery
        self._expires_in = expires_in

    def signed_url(
        self,
        image: str,
        variant: VariantLike,
        options: Mapping[str, Any],
        expires_in: int | float | timedelta | None = None,
        expires_at: datetime | float | None = None,
    ) -> str:
        """``image``'s signed URL through ``variant`` (a named variant): the errors name the image and the fix."""
        if expires_in is None and expires_at is None:
            expires_in = self._expires_in
        try:
            signed = keyword_options(variant, options) if options else variant
            return self.delivery.signed_url(image, signed, expires_in=expires_in, expires_at=expires_at)
        except SigningError as exc:
            if self.delivery.can_sign:
                raise _private_error(image, f"its URL must be signed, and {exc}") from exc
            raise _private_error(
                image, f"its URLs must be signed, but no signing key is configured: {_NO_KEY_FIX}"
            ) from exc

    def url(self, image: str, variant: VariantLike = None, /) -> str:
        return self.signed_url(image, variant, {})

    def options_of(self, variant: VariantLike) -> Options | None:
        return self.delivery.options_of(variant)

    def srcset(self, image: str, variant: VariantLike = None, /, **_kwargs: Any) -> str:
        raise _private_error(image, f"it {_NO_SRCSET}")

    def srcset_options(self, variant: VariantLike) -> Options:
        raise SigningError(f"a private image {_NO_SRCSET}")

    def srcset_affixes(self, image: str, /) -> tuple[str, str]:
        raise _private_error(image, f"it {_NO_SRCSET}")


# -- helpers ----------------------------------------------------------------------------------------------------------


def _zone_from_settings() -> Transformations | None:
    """``Transformations`` on ``CF_IMG_ZONE`` when it is set (environment or ``.env``), else ``None``."""
    settings = Settings.load()
    return Transformations.from_settings(settings) if settings.zone else None


def _sizing(value: object, layout: str | None, width: object, height: object, original: object) -> dict[str, Any]:
    """The sizing keywords of a template call: digit strings as numbers; with a layout and no ``original``,
    what the value itself knows of its original."""
    if layout is not None and original is None:
        original = image_original(value)
    return {
        "layout": layout,
        "width": _pixels(width, "width"),
        "height": _pixels(height, "height"),
        "original": original,
    }


def _pixels(value: object, name: str) -> Any:
    if isinstance(value, str):
        text = value.strip().removesuffix("px")
        if not (text.isascii() and text.isdigit()):
            raise ArgumentError(f"{name} {value!r} is not a size in pixels such as 640")
        return int(text)
    return value


def _alt_text(label: str, alt: object) -> str:
    if alt is None:
        raise ArgumentError(f"{label} needs alt text: alt=... (alt='' for a purely decorative image)")
    return alt if isinstance(alt, str) else str(alt)  # lazy translations, numbers, Undefined ("")


def _drop_none(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _show(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _describe_value(value: object, ref: str | None) -> str:
    if isinstance(value, str):
        return _show(str(value))
    name = type(value).__name__
    return f"{name} {_show(ref)}" if ref is not None else name


def _describe_arguments(variant: VariantLike, details: Mapping[str, Any]) -> str:
    parts = [] if variant is None else [_show(variant if not isinstance(variant, str) else str(variant))]
    parts += [f"{name}={_show(value)}" for name, value in details.items() if value is not None]
    return ", ".join(parts)


_descriptor_cache: dict[str, tuple[str, tuple[float, ...]]] = {}


def parse_descriptors(text: str) -> tuple[str, tuple[float, ...]]:
    """``"320,640"`` / ``"320w, 640w"`` -> ``("widths", ...)``; ``"1x,2x"`` -> ``("densities", ...)``.

    For template glue, where lists are awkward (``{{ x|srcset:'320,640' }}``). Cached; raises
    ``CFVariantsError`` naming the bad part."""
    try:
        return _descriptor_cache[text]
    except KeyError:
        pass
    parts = _parts(text)
    if not parts:
        raise ArgumentError(f"{text!r} lists no srcset widths or densities (e.g. '320,640' or '1x,2x')")
    if all(part.lower().endswith("x") for part in parts):
        parsed: tuple[str, tuple[float, ...]] = ("densities", tuple(_float_from_text(part) for part in parts))
    else:
        parsed = ("widths", tuple(_int_from_text(part) for part in parts))
    if len(_descriptor_cache) >= 256:
        _descriptor_cache.clear()
    _descriptor_cache[text] = parsed
    return parsed


def looks_like_descriptors(text: str) -> bool:
    """Whether a string lists widths or densities (``"320,640"``, ``"1x,2x"``) rather than naming a variant."""
    try:
        parse_descriptors(text)
    except CFVariantsError:
        return False
    return True


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _widths(widths: Iterable[int | str] | str | None) -> tuple[int, ...] | None:
    if widths is None:
        return None
    if isinstance(widths, str):
        return tuple(_int_from_text(part) for part in _parts(widths))
    return tuple(_int_from_text(w) if isinstance(w, str) else w for w in widths)


def _densities(densities: Iterable[float | str] | str | None) -> tuple[float, ...] | None:
    if densities is None:
        return None
    if isinstance(densities, str):
        return tuple(_float_from_text(part) for part in _parts(densities))
    return tuple(_float_from_text(d) if isinstance(d, str) else d for d in densities)


def _int_from_text(text: str) -> int:
    try:
        return int(text.strip().removesuffix("w"))
    except ValueError:
        raise ArgumentError(f"srcset width {text!r} is not a width in pixels such as 640") from None


def _float_from_text(text: str) -> float:
    try:
        return float(text.strip().lower().removesuffix("x"))
    except ValueError:
        raise ArgumentError(f"srcset density {text!r} is not a density such as 2x") from None
