"""Moving existing images to Cloudflare Images: from a directory, a Django storage, or a Django model field.

    from cfvariants.migrate import migrate_directory, migrate_field, migrate_storage
    report = migrate_directory("media/", upload=UploadOptions(id_from_path=True))
    report = migrate_field("gallery.Profile.image", delete_source=False)
    report.migrated, report.skipped, report.failed, report.failures

Every run is resumable: each image carries its file's SHA-256 in its metadata (and its path, or the path is its
custom id), so a second run skips what is there and moves the rest, none twice. Requests go through a token
bucket that keeps within Cloudflare's 1,200 requests per five minutes (``rate_limit=``; a batch token allows
``BATCH_TOKEN_LIMIT``), and a 429 pauses every request for its ``Retry-After``. Uploads run concurrently on a
background event loop; the source is read, and rows are rewritten, in the calling thread (one transaction per
row, only after its image is stored). ``cfvariants migrate`` is the same on the command line, with a progress
bar. Needs the ``cli`` extra (and ``django`` for the Django sources).
"""

from cfvariants._public import name_public_module as _name_public_module
from cfvariants.cli._progress import FileResult, Reporter
from cfvariants.cli._uploader import HASH_KEY, PATH_KEY, UploadOptions
from cfvariants.client import BATCH_TOKEN_LIMIT, DEFAULT_LIMIT, RateLimit

from ._migrate import migrate_directory, migrate_field, migrate_storage
from ._run import KEPT_FAILURES, DirectorySource, MigrationReport, MigrationSource
from ._run import run_migration as migrate

__all__ = [
    "BATCH_TOKEN_LIMIT",
    "DEFAULT_LIMIT",
    "HASH_KEY",
    "KEPT_FAILURES",
    "PATH_KEY",
    "DirectorySource",
    "FileResult",
    "MigrationReport",
    "MigrationSource",
    "RateLimit",
    "Reporter",
    "UploadOptions",
    "migrate",
    "migrate_directory",
    "migrate_field",
    "migrate_storage",
]

_name_public_module(globals(), __all__)
