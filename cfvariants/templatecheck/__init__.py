"""Static checks of the variants that templates use, so a typo fails in CI rather than as a broken image.

Every use of the cfvariants template helpers is found, in Jinja and in Django templates:

    Jinja    {{ x | variant('w=200') }}  {{ x | signed_variant("avatar") }}  {{ x | srcset([320, 640], 'fit=cover') }}
             {{ x | cf_img('avatar', alt='') }}  {{ x | cf_picture(...) }}  {{ x | variant(width=200, fit='cover') }}
             (and cf_img(x, ...), cf_url(x, ...)... called as functions)
    Django   {{ x|variant:'w=200' }}  {{ x|signed_variant:"avatar" }}  {{ x|srcset:'fit=cover' }}
             {% cf_img x 'w=640' alt=t %}  {% cf_srcset x 'fit=cover' widths='320,640' %}  {% cf_url x width=200 %}
             {% cf_picture x 'w=1200' alt=t %}

Each use is then run through the same code that renders it (``ImageFilters`` over a ``Delivery`` with a dummy
account), so flexible options are validated by the core and every message is the one the template would raise:
bad options, a srcset of a named variant, a signed flexible variant, a missing ``alt``. Named variants are
compared with the declaration (``cfvariants.variants``); ``public`` always exists. Arguments that are only known
at render time (variables, expressions) are skipped, or reported with ``strict=True``.

Jinja templates are parsed with Jinja's own parser (unknown extension tags are stepped over), so line numbers
follow its lexer through multi-line tags, comments and raw blocks. Django templates are tokenised the way
Django's lexer does it (tags on one line; ``{# #}``, ``{% comment %}`` and ``{% verbatim %}`` skipped) with
exact line and column positions. Pure: no network; files are only read.
"""

from cfvariants._public import name_public_module as _name_public_module

from ._check import check_paths, check_source, detect_syntax, find_uses, template_files
from ._model import (
    DEFAULT_EXTENSIONS,
    IMAGES,
    Arg,
    Finding,
    Images,
    Report,
    Syntax,
    Use,
)
from ._validate import validate

__all__ = [
    "DEFAULT_EXTENSIONS",
    "IMAGES",
    "Arg",
    "Finding",
    "Images",
    "Report",
    "Syntax",
    "Use",
    "check_paths",
    "check_source",
    "detect_syntax",
    "find_uses",
    "template_files",
    "validate",
]

_name_public_module(globals(), __all__)
