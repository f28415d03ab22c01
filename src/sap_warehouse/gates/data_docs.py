"""The quality gates' Great Expectations Data Docs site: how GX is told where it is and how to build it.

The site lives at the Variable ``warehouse_data_docs_path``: a local folder (``file://...`` or a plain
path) or S3 (``s3://bucket/prefix``, credentials as boto3 finds them). Each gate run's Checkpoint
(sap_warehouse.gates.quality) writes its validation pages under ``validations/<suite>/<run id>/`` and
rebuilds ``index.html`` to list that run's validations. Pages of earlier runs stay: GX's own index
builder would delete every page whose result is not in the building context's store, and a gate's
context (ephemeral: results live in the warehouse, operations.dq_validation_result) holds only its run's.

Two gate runs at once must not break each other: a local site is built per run in a staging
folder of its own inside the site (``.staging-*``), and when the run's pages are done each file is
renamed into place (``os.replace``: a reader sees the old file or the new one, never half of one),
the index last. Object stores write each object whole already.

GX renders each page through a Jinja environment of its own, made for that page, so it would parse
and compile every template again for each suite's page and the index (about 0.35 s a suite: most of
a gate's Data Docs time). The site's views share one cache of compiled templates for the process
(Jinja's bytecode cache, keyed by template and source checksum); the pages are the same.

Imported by GX itself when it builds the site (``module_name`` of the index builder), so Great
Expectations is imported at the top here; sap_warehouse.gates.quality imports this module only when a
site is configured.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for the process (a template whose source changed compiles again)."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = CompiledTemplates()


class CompiledOncePageView(DefaultJinjaPageView):
    """GX's page view, its templates compiled once per process."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = TEMPLATES


class CompiledOnceIndexPageView(DefaultJinjaIndexPageView):
    """GX's index page view, its templates compiled once per process."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = TEMPLATES


def _view(view: type) -> dict:
    return {"module_name": __name__, "class_name": view.__name__}


class KeepingSiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, listing the building run's validations and deleting no page."""

    def _build_validation_and_profiling_result_site_keys(self, skip_and_clean_missing: bool) -> list:
        on_site = super()._build_validation_and_profiling_result_site_keys(skip_and_clean_missing=False)
        store = self.site_section_builders_config["validations"].get("source_store_name")
        this_run = set(self.data_context.stores[store].list_keys())
        return [key for key in on_site if key in this_run]


def site_config(url: str) -> dict:
    """The GX Data Docs site config of a location URL; ValueError names the Variable when GX cannot
    write there."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        backend = {"class_name": "TupleFilesystemStoreBackend", "base_directory": parts.path}
    elif parts.scheme == "s3":
        backend = {"class_name": "TupleS3StoreBackend", "bucket": parts.netloc, "prefix": parts.path.strip("/")}
    else:
        raise ValueError(
            f"Data Docs location {url!r} (Variable warehouse_data_docs_path): use a local folder (file://...) "
            "or S3 (s3://bucket/prefix)"
        )
    return {
        "class_name": "SiteBuilder",
        "store_backend": backend,
        "site_index_builder": {
            "class_name": KeepingSiteIndexBuilder.__name__,
            "module_name": __name__,
            "view": _view(CompiledOnceIndexPageView),
        },
        # GX's sections (its defaults merged under these), each page's view compiling templates once.
        "site_section_builders": {
            section: {"view": _view(CompiledOncePageView)} for section in ("expectations", "validations", "profiling")
        },
    }


@contextmanager
def staged(config: dict) -> Iterator[tuple[dict, Callable[[str | None], str | None]]]:
    """The site config to build this run's pages with, and the function that turns a page's URL in
    it into the page's URL in the published site. A local site: a staging folder, published on a
    normal exit and removed on any exit. Elsewhere: the config as it is."""
    backend = config["store_backend"]
    if backend["class_name"] != "TupleFilesystemStoreBackend":
        yield config, lambda page: page
        return
    root = Path(backend["base_directory"])
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        yield (
            {**config, "store_backend": {**backend, "base_directory": str(staging)}},
            lambda page: page and page.replace(staging.as_uri(), root.as_uri(), 1),
        )
        publish(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, root: Path) -> None:
    """Rename every file of ``staging`` to its place under ``root``, index.html last."""
    files = sorted((p for p in staging.rglob("*") if p.is_file()), key=lambda p: (p.name == "index.html", str(p)))
    for path in files:
        target = root / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def browser_link(page: str | None, site_url: str, base_url: str | None) -> str | None:
    """Where a person opens a Data Docs page: through the on-call page of the Airflow UI at
    ``base_url`` (``<base>/warehouse/data-docs/<path>``) when the site is a local folder and the UI's
    address is configured; an object store's page at its own URL; else the page's own URL."""
    if not page:
        return None
    site, found = urlsplit(site_url), urlsplit(page)
    if base_url and site.scheme in ("", "file") and found.scheme == "file":
        try:
            relative = Path(found.path).relative_to(site.path)
        except ValueError:
            return page
        return f"{base_url.rstrip('/')}/warehouse/data-docs/{relative.as_posix()}"
    return page
