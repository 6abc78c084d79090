"""The ``cfvariants`` command: a click group whose subcommands live one per module in this package.

Subcommands are imported only when they run (``LazyGroup``), so ``cfvariants --help`` stays fast and a
subcommand's optional dependencies (Pillow and werkzeug for ``emulator``) are needed only by that subcommand.
To add one: write ``cfvariants/cli/_<name>.py`` with a click command and list it in ``COMMANDS``.
"""

from cfvariants._public import name_public_module as _name_public_module

from ._main import COMMANDS, LazyGroup, main

__all__ = ["COMMANDS", "LazyGroup", "main"]

_name_public_module(globals(), __all__)
