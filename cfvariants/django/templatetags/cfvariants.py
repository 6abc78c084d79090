"""``{% load cfvariants %}``: the filters ``variant``, ``signed_variant``, ``srcset``, ``upload_state`` and the
tags ``cf_img``, ``cf_picture``, ``cf_srcset``, ``cf_url``, ``cf_preload``.

As the original app used them::

    <img src="{{ profile.image_url|variant:'w=200' }}" alt="{{ alt }}">
    <img src="{{ profile.image_url|variant:'avatar' }}" alt="{{ alt }}">
    <img src="{{ doc.scan|signed_variant:'avatar' }}" alt="">            {# expiry: CFVARIANTS SIGNED_EXPIRES_IN #}
    <img srcset="{{ profile.image|srcset:'320,640,960' }}" ...>           {# or '1x,2x', or a variant: 'fit=cover' #}
    {% cf_img profile.image 'w=640' alt=title widths='320,640' sizes='50vw' placeholder='blur' class='hero' %}
    {% cf_srcset profile.image 'fit=cover' widths='320,640' as candidates %}
    {% cf_url profile.image width=200 fit='cover' %}   {% cf_url doc.scan 'avatar' signed=True expires_in=600 %}
    {% cf_picture profile.image 'w=1200' alt=title formats='avif,webp' %}
    {% cf_img profile.image alt=title layout='constrained' width=800 height=600 priority=True %}
    {% cf_preload profile.image layout='constrained' width=800 height=600 %}   {# in <head>, same arguments #}
    {% if profile.image|upload_state == 'pending' %}Uploading...{% endif %}   {# background uploads #}

Values may be image ids, delivery URLs, ``ImageFieldFile``s stored by the Cloudflare storage, or any object
``cfvariants.image_ref`` reads. Everything is built by the configured ``Delivery``
(``cfvariants.django._conf``); errors follow ``CFVARIANTS['ON_ERROR']``. Tags take ``as name`` to store the result.
"""

from __future__ import annotations

from typing import Any

from django import template
from markupsafe import Markup

from cfvariants._segments import VariantLike
from cfvariants._templating import looks_like_descriptors, parse_descriptors
from cfvariants.django._conf import template_filters

register = template.Library()


@register.filter
def variant(value: object, arg: VariantLike = None) -> str:
    """``{{ x|variant:'w=200' }}``, ``{{ x|variant:'avatar' }}``, ``{{ x|variant }}`` (public)."""
    return template_filters().variant(value, arg)


@register.filter
def signed_variant(value: object, arg: VariantLike = None) -> str:
    """``{{ x|signed_variant:'avatar' }}``: signed, expiring after ``CFVARIANTS['SIGNED_EXPIRES_IN']``."""
    return template_filters().signed_variant(value, arg)


@register.filter
def srcset(value: object, arg: Any = None) -> str:
    """``{{ x|srcset:'320,640,960' }}`` (widths), ``'1x,2x'`` (densities), or a variant (``'fit=cover'``: the
    default fluid widths); a list from the context is widths."""
    filters = template_filters()
    if isinstance(arg, str):
        if looks_like_descriptors(arg):
            if parse_descriptors(arg)[0] == "densities":
                return filters.srcset("srcset filter", value, densities=arg)
            return filters.srcset("srcset filter", value, widths=arg)
        return filters.srcset("srcset filter", value, arg)
    return filters.srcset("srcset filter", value, widths=arg)


@register.simple_tag
def cf_img(value: object, variant: VariantLike = None, **kwargs: Any) -> Markup:
    """``{% cf_img x 'w=640' alt=title widths='320,640' sizes='50vw' placeholder='blur' class='hero' %}``."""
    return template_filters().img("cf_img tag", value, variant, **kwargs)


@register.simple_tag
def cf_picture(value: object, variant: VariantLike = None, **kwargs: Any) -> Markup:
    """``{% cf_picture x 'w=1200' alt=title formats='avif,webp' widths='600,1200' %}``."""
    return template_filters().picture("cf_picture tag", value, variant, **kwargs)


@register.simple_tag
def cf_preload(value: object, variant: VariantLike = None, **kwargs: Any) -> Markup:
    """``{% cf_preload x layout='full-width' %}`` in ``<head>``: ``<link rel="preload" as="image" ...>`` with the
    same candidates as the ``cf_img`` it speeds up (give it the same arguments)."""
    return template_filters().preload("cf_preload tag", value, variant, **kwargs)


@register.simple_tag
def cf_srcset(value: object, variant: VariantLike = None, **kwargs: Any) -> str:
    """``{% cf_srcset x 'fit=cover' widths='320,640' %}`` (also densities=, min_width=, max_width=, tolerance=)."""
    return template_filters().srcset("cf_srcset tag", value, variant, **kwargs)


@register.simple_tag
def cf_url(value: object, variant: VariantLike = None, **kwargs: Any) -> str:
    """``{% cf_url x width=200 fit='cover' %}`` (keyword options), ``{% cf_url x 'avatar' signed=True
    expires_in=600 %}``."""
    return template_filters().url("cf_url tag", value, variant, **kwargs)


@register.filter
def upload_state(value: object) -> str:
    """``{{ profile.image|upload_state }}``: ``pending``/``uploading`` while a background upload waits (the
    filters show its preview meanwhile), ``ready`` once stored (and for any other stored image), ``failed``
    when Cloudflare refused it, ``""`` for no file."""
    if not value:
        return ""
    state = getattr(value, "upload_state", None)
    if isinstance(state, str):
        return state
    storage = getattr(value, "storage", None)
    name = getattr(value, "name", None)
    reader = getattr(storage, "upload_state", None)
    if reader is not None and isinstance(name, str):
        return str(reader(name))
    return "ready"
