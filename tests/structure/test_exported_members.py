"""The public API, name by name (as httpx's ``test_exported_members``): each public module's ``__all__`` is
exactly the set listed here, every name in it resolves and is documented, packages show no implementation modules,
private modules (``_name.py``) have no ``__all__``, and what a package exports names the package as its module, so
pickles and reprs carry public paths (``cfvariants.Delivery``) that survive moving code between private modules.

A name appearing or disappearing fails here: change the list on purpose, in the same commit, and say so in
CHANGELOG.md."""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import itertools
import pickle
import pkgutil
import types
from pathlib import Path
from typing import Any

import pytest

import cfvariants

# Public module -> its __all__.
EXPORTS: dict[str, set[str]] = {
    "cfvariants": {
        "ArgumentError",
        "CFVariantsError",
        "CacheInfo",  # what Delivery.cache_info() and Transformations.cache_info() return
        "DEFAULT_VARIANT",
        "Delivery",
        "ENV_NAMES",
        "EmulatorError",
        "ImageIdError",
        "LOG_FORMAT",
        "LocalImage",
        "Options",
        "OptionsError",
        "Original",
        "ParsedURL",
        "PrivateImage",
        "RemoteImage",
        "Settings",
        "SettingsError",
        "SigningError",
        "SigningKey",
        "Source",
        "TemplateFilterError",
        "TransformationURL",
        "Transformations",
        "URLError",
        "VariantError",
        "VariantLike",
        "WIDTH_LADDER",
        "configure_logging",
        "encode_image_id",
        "image_ref",
        "parse_url",
        "sign_url",
        "verify",
    },
    "cfvariants.cli": {
        "COMMANDS",
        "LazyGroup",
        "main",
    },
    "cfvariants.client": {
        "APIError",
        "AccountConfig",
        "AccountSigningKey",
        "AsyncImagesClient",
        "AuthenticationError",
        "BATCH_API_BASE",
        "BATCH_TOKEN_LIMIT",
        "BatchToken",
        "CloudflareImagesError",
        "ConflictError",
        "DEFAULT_API_BASE",
        "DEFAULT_LIMIT",
        "DirectUpload",
        "ErrorDetail",
        "Image",
        "ImagesClient",
        "ImagesPage",
        "MAX_METADATA_BYTES",
        "MAX_UPLOAD_BYTES",
        "MetaFilter",
        "NotFoundError",
        "RateLimit",
        "RateLimitError",
        "RateLimitedTransport",
        "RetryPolicy",
        "Stats",
        "StatsCount",
        "TransportError",
        "UPLOAD_MARKER_KEY",
        "ValidationError",
        "Variant",
        "VariantOptions",
    },
    "cfvariants.direct_uploads": {
        "DirectUploadError",
        "DirectUploadRecord",
        "DirectUploadStore",
        "DirectUploads",
        "SCRIPT",
        "Ticket",
        "WebhookOutcome",
        "widget_html",
    },
    "cfvariants.django": {"ConfigurationError"},
    "cfvariants.django.direct_upload": {
        "DirectUploadField",
        "DirectUploadForm",
        "DirectUploadWidget",
        "SETTING_NAME",
        "get_uploads",
        "uploader_id",
    },
    "cfvariants.django.fields": {
        "THUMBHASH_MAX_LENGTH",  # the max_length a thumbhash_field needs (CloudflareImageField(thumbhash_field=))
        "CloudflareImageField",
        "CloudflareImageFieldFile",
        "CloudflareImageFormField",
    },
    "cfvariants.django.storage": {
        "CloudflareImagesStorage",
        "SelectedStorage",
        "background_target",
        "dev_storage",
        "is_cloudflare_storage",
        "select_storage",
    },
    "cfvariants.django.tasks": set(),
    "cfvariants.django.validators": {
        "CloudflareImageValidator",
        "ImageFacts",
        "image_facts",
    },
    "cfvariants.emulator": {
        "AccountSettings",
        "DEFAULT_HOST",
        "DEFAULT_PORT",
        "DEV_ACCOUNT_HASH",
        "DEV_ACCOUNT_ID",
        "DEV_API_TOKEN",
        "DEV_AUTH_EMAIL",
        "DEV_AUTH_KEY",
        "DEV_SIGNING_KEY",
        "DeliveryError",
        "DeliveryResponse",
        "Emulator",
        "EmulatorAPIError",
        "EmulatorApp",
        "EmulatorConfig",
        "EmulatorServer",
        "ImageRecord",
        "PUBLIC_VARIANT",
        "RequestPath",
        "SigningKeyRecord",
        "TransformationServer",
        "TransformationsMiddleware",
        "VariantRecord",
        "create_app",
        "output_format",
        "render",
        "request_path",
    },
    "cfvariants.flask": {
        "CFImages",
        "CFImagesState",
        "CONFIG_PREFIX",
        "EXTENSION_KEY",
        "get_state",
    },
    "cfvariants.flask_direct": {
        "CONFIG_KEY",
        "claim_direct_upload",
        "current_uploader",
        "install",
    },
    "cfvariants.imaging": {
        "CONTENT_TYPES",
        "ImageInfo",
        "ImageRejected",
        "PLACEHOLDER_KEYS",
        "SVGError",
        "THUMBNAIL_SIDE",
        "active_content",
        "exif_orientation",
        "inspect_image",
        "looks_like_svg",
        "open_raster",
        "oriented_size",
        "placeholder_metadata",
        "sanitize_svg",
        "sniff_format",
        "svg_size",
        "with_placeholder_metadata",
    },
    "cfvariants.jinja": {
        "CFVariantsExtension",
        "FILTER_NAMES",
        "configure",
        "filters_for",
        "install",
    },
    "cfvariants.limits": {
        "ANIMATION_TRANSFORM_AREA",
        "AVIF_MAX_SIDE",
        "BROWSER_TTL_DEFAULT",
        "BROWSER_TTL_RANGE",
        "DIRECT_UPLOAD_EXPIRY_DEFAULT",
        "DIRECT_UPLOAD_EXPIRY_MAX",
        "DIRECT_UPLOAD_EXPIRY_MIN",
        "KEY_NAME_PATTERN",
        "MAX_AREA",
        "MAX_CUSTOM_ID_LENGTH",
        "MAX_FILENAME_LENGTH",
        "MAX_FILTERS",
        "MAX_FILTER_DEPTH",
        "MAX_FILTER_IN_VALUES",
        "MAX_KEY_NAME_LENGTH",
        "MAX_METADATA_BYTES",
        "MAX_SIDE",
        "MAX_SIDE_EXEMPT_FORMATS",
        "MAX_UPLOAD_BYTES",
        "MAX_VARIANTS",
        "MAX_VARIANT_ID_LENGTH",
        "PER_PAGE_RANGE",
        "UUID_PATTERN",
        "VARIANT_ID_PATTERN",
        "is_key_name",
        "is_uuid",
        "is_variant_id",
    },
    "cfvariants.local": {
        "EMULATOR_API_PUBLIC",
        "LOCAL_ORIGIN",
        "LocalCloudflare",
        "LocalCloudflareMiddleware",
        "is_loopback",
    },
    "cfvariants.migrate": {
        "BATCH_TOKEN_LIMIT",
        "DEFAULT_LIMIT",
        "DirectorySource",
        "FileResult",
        "HASH_KEY",
        "KEPT_FAILURES",
        "MigrationReport",
        "PATH_KEY",
        "RateLimit",
        "MigrationSource",
        "Reporter",
        "UploadOptions",
        "migrate",
        "migrate_directory",
        "migrate_field",
        "migrate_storage",
    },
    "cfvariants.storage": {
        "FileSource",
        "HEIGHT_KEY",
        "ImageStore",
        "SIZE_KEY",
        "WIDTH_KEY",
    },
    "cfvariants.templatecheck": {
        "Arg",
        "DEFAULT_EXTENSIONS",
        "Finding",
        "IMAGES",
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
    },
    "cfvariants.testing": {
        "CF_BASE_URL",
        "cf_app",
        "cf_base_url",
        "cf_client",
        "cf_delivery",
        "cf_emulator",
        "cf_emulator_server",
        "cf_env",
        "cf_http",
        "cf_settings",
    },
    "cfvariants.thumbhash": {
        "MAX_ENCODE_SIDE",
        "PLACEHOLDER_SIDE",
        "ThumbHashError",
        "aspect_ratio",
        "average_hex",
        "average_rgba",
        "data_uri",
        "decode",
        "encode",
        "has_alpha",
        "parse",
        "png",
    },
    "cfvariants.uploads": {
        "ACCEPTED_FORMATS",
        "Block",
        "MARKER_KEY",
        "Outcome",
        "ReconcileReport",
        "RedisUploadStore",
        "StorageFull",
        "UploadQueue",
        "UploadRecord",
        "UploadRecords",
        "UploadRejected",
        "UploadState",
        "UploadStats",
        "UploadStore",
        "UploadTooLarge",
        "UploadsError",
        "check_image_file",
        "classify",
        "custom_id_for",
        "huey_from_url",
        "process",
        "store_from_url",
    },
    "cfvariants.uploads.consumer": {
        "DEFAULT_GRACE",
        "load_huey",
        "main",
    },
    "cfvariants.variants": {
        "Change",
        "PROTECTED_VARIANTS",
        "Plan",
        "VariantDeclarationError",
        "VariantSpec",
        "account_variants",
        "apply",
        "execute",
        "load",
        "plan",
        "to_toml",
    },
}
# Public package -> its public submodules (every other module of the package is private: ``_name``).
PACKAGES: dict[str, set[str]] = {
    "cfvariants": {
        "cli",
        "client",
        "direct_uploads",
        "django",
        "emulator",
        "flask",
        "flask_direct",
        "imaging",
        "jinja",
        "limits",
        "local",
        "migrate",
        "storage",
        "templatecheck",
        "testing",
        "thumbhash",
        "uploads",
        "variants",
    },
    "cfvariants.cli": set(),
    "cfvariants.client": set(),
    "cfvariants.django": {
        "apps",
        "direct_upload",
        "fields",
        "management",
        "storage",
        "tasks",
        "templatetags",
        "urls",
        "validators",
    },
    "cfvariants.django.management": {
        "commands",
    },
    "cfvariants.django.management.commands": {
        "cfvariants_variants",
    },
    "cfvariants.django.templatetags": {
        "cfvariants",
    },
    "cfvariants.emulator": set(),
    "cfvariants.imaging": set(),
    "cfvariants.migrate": set(),
    "cfvariants.templatecheck": set(),
    "cfvariants.uploads": {
        "consumer",
    },
}
LIBRARY = Path(cfvariants.__file__).parent


def load(name: str) -> types.ModuleType:
    if name.startswith("cfvariants.django"):
        from django_project import setup

        setup()  # Django's modules need configured settings (as in a project)
    return importlib.import_module(name)


def has_attribute_docstring(module: types.ModuleType, name: str) -> bool:
    """A constant's documentation: the string right after its assignment (what mkdocstrings shows), where it is
    defined (the module's own package first, then the library)."""
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    own = sorted((LIBRARY.parent / package.replace(".", "/")).rglob("*.py"))
    for node in ast.walk(ast.parse(Path(module.__file__ or "").read_text())):
        if isinstance(node, ast.ImportFrom):
            name = next((a.name for a in node.names if a.asname == name), name)  # exported under another name
    for path in [Path(module.__file__ or ""), *own, *sorted(LIBRARY.rglob("*.py"))]:
        body = ast.parse(path.read_text()).body
        for before, after in itertools.pairwise(body):
            targets = before.targets if isinstance(before, ast.Assign) else [getattr(before, "target", None)]
            assigns = any(isinstance(t, ast.Name) and t.id == name for t in targets)
            if assigns and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and after.value.value:
                return True
    return False


def documentation(member: Any) -> str | None:
    """The docstring of a class, function, click command or pytest fixture (not one inherited from its type)."""
    if inspect.isclass(member):
        doc = member.__dict__.get("__doc__")
        return None if doc and doc.startswith(f"{member.__name__}(") else doc  # a dataclass's made-up signature
    wrapped = getattr(member, "callback", None) or getattr(member, "_get_wrapped_function", lambda: None)()
    if wrapped is not None:
        return wrapped.__doc__
    if inspect.isfunction(member) or isinstance(member, types.ModuleType):
        return member.__doc__
    return None


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_public_names_are_exactly_these(name: str) -> None:
    module = load(name)
    assert len(module.__all__) == len(set(module.__all__)), "a name listed twice"
    assert set(module.__all__) == EXPORTS[name]


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    module = load(name)
    undocumented = []
    for member_name in module.__all__:
        member = getattr(module, member_name)  # AttributeError: listed but not there
        if not (documentation(member) or has_attribute_docstring(module, member_name)):
            undocumented.append(member_name)
    assert undocumented == []


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_packages_have_exactly_these_public_modules(name: str) -> None:
    package = load(name)
    assert {i.name for i in pkgutil.iter_modules(package.__path__) if not i.name.startswith("_")} == PACKAGES[name]


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_packages_show_no_implementation_modules(name: str) -> None:
    package = load(name)
    shown = {
        attribute
        for attribute, value in vars(package).items()
        if isinstance(value, types.ModuleType) and not attribute.startswith("_")
    }
    # (pytest rewrites the asserts of plugin packages, cfvariants included, and adds its "@py_builtins")
    shown = {a for a in shown if not a.startswith("@")}
    assert shown <= PACKAGES[name]  # public submodules appear once imported; nothing else does
    other = {a for a in vars(package) if not a.startswith(("_", "@"))} - shown - set(getattr(package, "__all__", ()))
    assert other == set()


def test_private_modules_have_no_all() -> None:
    private = [
        path
        for path in LIBRARY.rglob("*.py")
        if any(part.startswith("_") and not part.startswith("__") for part in path.relative_to(LIBRARY).parts)
    ]
    assert len(private) > 50
    with_all = [
        str(path.relative_to(LIBRARY))
        for path in private
        if "__all__"
        in {
            t.id for n in ast.parse(path.read_text()).body for t in getattr(n, "targets", []) if isinstance(t, ast.Name)
        }
    ]
    assert with_all == []


@pytest.mark.parametrize("name", sorted(n for n in PACKAGES if n in EXPORTS))
def test_exported_classes_and_functions_name_the_package(name: str) -> None:
    package = load(name)
    for member_name in package.__all__:
        member = getattr(package, member_name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert not any(part.startswith("_") for part in member.__module__.split(".")), member


class RecordingUnpickler(pickle.Unpickler):
    """Unpickles, noting each global a pickle refers to."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.found: list[str] = []

    def find_class(self, module: str, name: str) -> Any:
        self.found.append(f"{module}.{name}")
        return super().find_class(module, name)


def globals_of(value: object) -> list[str]:
    unpickler = RecordingUnpickler(pickle.dumps(value))
    unpickler.load()
    return [found for found in unpickler.found if found.startswith("cfvariants")]


def test_pickles_refer_to_public_paths() -> None:
    from cfvariants.client import NotFoundError
    from cfvariants.uploads import UploadState

    delivery = cfvariants.Delivery(account_hash="ZWd9g1K7eljCn_KDTu_MWA", signing_key="key")
    assert globals_of(delivery)[0] == "cfvariants.Delivery"
    assert "cfvariants.Options" in globals_of(cfvariants.Options.parse("w=200,fit=cover"))
    assert "cfvariants.Transformations" in globals_of(cfvariants.Transformations(zone="www.example.com"))
    assert "cfvariants.SigningKey" in globals_of(cfvariants.SigningKey("key"))
    assert "cfvariants.OptionsError" in globals_of(cfvariants.OptionsError("w=abc: w must be a positive integer"))
    assert "cfvariants.uploads.UploadState" in globals_of(UploadState.READY)
    assert "cfvariants.client.NotFoundError" in globals_of(NotFoundError(404, method="GET", path="/images/v1/cat"))
    for value in (delivery, cfvariants.Options.parse("w=200"), UploadState.READY):
        assert not [found for found in globals_of(value) if "._" in found]


def test_reprs_name_public_paths() -> None:
    from cfvariants.client import ImagesClient

    assert repr(cfvariants.Delivery) == "<class 'cfvariants.Delivery'>"
    assert repr(ImagesClient) == "<class 'cfvariants.client.ImagesClient'>"


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_exported_models_are_complete(name: str) -> None:
    """A pydantic model built later would look its annotations up in the public package, not where it was
    written: every exported model is complete when imported."""
    from pydantic import BaseModel

    module = load(name)
    for member_name in module.__all__:
        member = getattr(module, member_name)
        if inspect.isclass(member) and issubclass(member, BaseModel):
            assert member.__pydantic_complete__, member
