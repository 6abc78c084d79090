"""``cfvariants check``: find every variant the templates use, and fail on bad options or undeclared names."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from cfvariants import variants as declared_variants
from cfvariants.templatecheck import DEFAULT_EXTENSIONS, IMAGES, Images, Syntax, check_paths

from ._errors import EXIT_FAILED, CFCommand
from ._options import json_option
from ._output import echo_json
from ._runtime import ensure_cwd_importable
from ._variants import DEFAULT_FILE


@click.command(
    cls=CFCommand,
    epilog=f"""\b
Examples:
  cfvariants check templates/                      # uses ./{DEFAULT_FILE} when it exists
  cfvariants check app/templates --variants myapp.images --strict
  cfvariants check templates/ --json | jq '.findings[] | "\\(.path):\\(.line)"'
  cfvariants check templates/ --images both         # local media in dev, Cloudflare Images in production

\b
Output: one line per problem, path:line:column: message. Exit codes: 0 no problems, 1 problems found,
2 bad usage or an unreadable declaration.
""",
)
@click.argument("template_dirs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--variants",
    "declaration",
    default=None,
    metavar="FILE|PKG.MOD",
    help=f"Declared named variants: a TOML file or a Python module (default: ./{DEFAULT_FILE} if present).",
)
@click.option(
    "--syntax",
    type=click.Choice(["auto", "jinja", "django"]),
    default="auto",
    show_default=True,
    help="Template language (auto: by extension, then by what the template uses).",
)
@click.option("--strict", is_flag=True, help="Also fail on variants only known at render time (variables).")
@click.option(
    "--images",
    type=click.Choice(IMAGES),
    default="hosted",
    show_default=True,
    help="The templates' images: hosted (Cloudflare Images), remote (Image Transformations of paths/URLs: no "
    "named variants), or both (must be valid in both forms).",
)
@click.option(
    "--ext",
    "extensions",
    multiple=True,
    metavar="EXT",
    help=f"File extensions to search in directories, repeatable (default: {' '.join(DEFAULT_EXTENSIONS)}).",
)
@json_option
def check(
    template_dirs: tuple[Path, ...],
    declaration: str | None,
    syntax: str,
    strict: bool,
    images: str,
    extensions: tuple[str, ...],
    as_json: bool,
) -> None:
    """Check the variants used in Jinja and Django templates, for CI.

    Finds |variant('...'), |variant:'...', signed_variant, srcset, cf_img, cf_picture, cf_url and cf_srcset;
    checks flexible options with the same code that renders them, and reports named variants missing from the
    declaration. Values only known at render time are skipped (reported with --strict).
    """
    declared, source = _declared(declaration)
    report = check_paths(
        template_dirs,
        declared=declared,
        declared_in=source,
        syntax=None if syntax == "auto" else _syntax(syntax),
        strict=strict,
        extensions=extensions or DEFAULT_EXTENSIONS,
        images=cast(Images, images),
    )
    if as_json:
        echo_json({**report.to_json(), "declaration": source})
    else:
        for finding in report.findings:
            click.echo(str(finding))
        if declared is None:
            click.echo(
                f"Note: no declaration (--variants or ./{DEFAULT_FILE}); named variants were not checked.", err=True
            )
        problems = len(report.findings)
        head = f"{problems} problem{'s' if problems != 1 else ''}" if problems else "No problems"
        templates = f"{report.templates} template{'s' if report.templates != 1 else ''}"
        uses = f"{report.uses} variant use{'s' if report.uses != 1 else ''}"
        click.echo(f"{head} in {templates} ({uses} checked).", err=True)
    if not report.ok:
        raise click.exceptions.Exit(EXIT_FAILED)


def _declared(declaration: str | None) -> tuple[frozenset[str] | None, str | None]:
    if declaration is None:
        if not Path(DEFAULT_FILE).exists():
            return None, None
        declaration = DEFAULT_FILE
    path = Path(declaration)
    if path.suffix != ".toml" and not path.exists():
        ensure_cwd_importable()
    specs = declared_variants.load(declaration)
    return frozenset(spec.id for spec in specs), declaration


def _syntax(name: str) -> Syntax:
    return "jinja" if name == "jinja" else "django"
