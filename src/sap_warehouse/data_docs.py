"""The quality gates' Great Expectations Data Docs site: how GX is told where it is and how to build it.

The site lives at the Variable ``warehouse_data_docs_path``: a local folder (``file://...`` or a plain
path) or S3 (``s3://bucket/prefix``, credentials as boto3 finds them). Each gate run's Checkpoint
(sap_warehouse.quality) writes its validation pages under ``validations/<suite>/<run id>/`` and
rebuilds ``index.html`` to list that run's validations. Pages of earlier runs stay: GX's own index
builder would delete every page whose result is not in the building context's store, and a gate's
context (ephemeral: results live in the warehouse, operations.dq_validation_result) holds only its run's.

Imported by GX itself when it builds the site (``module_name`` of the index builder), so Great
Expectations is imported at the top here; sap_warehouse.quality imports this module only when a
site is configured.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder


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
        "site_index_builder": {"class_name": KeepingSiteIndexBuilder.__name__, "module_name": __name__},
    }
