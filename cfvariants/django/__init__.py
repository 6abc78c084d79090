"""Django integration: add ``"cfvariants.django"`` to ``INSTALLED_APPS`` and ``{% load cfvariants %}``.

Configuration: ``settings.CFVARIANTS`` (see ``cfvariants.django._conf``), falling back to the environment. ``import
cfvariants`` never imports this package, so it never needs Django; importing this package loads only
``django.conf`` (for ``ConfigurationError``, the error a bad ``settings.CFVARIANTS`` raises).
"""

from cfvariants._public import name_public_module as _name_public_module

from ._conf import ConfigurationError

__all__ = ["ConfigurationError"]

_name_public_module(globals(), __all__)
