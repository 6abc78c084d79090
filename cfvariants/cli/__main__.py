"""``python -m cfvariants.cli``: the same as the ``cfvariants`` command."""

from cfvariants.cli import main

main()
