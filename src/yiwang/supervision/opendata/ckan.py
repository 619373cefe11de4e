"""The metadata of the datasets: CKAN package dicts, the CKAN Action API subset harvesters use,
and DCAT as JSON-LD.

The actions are plain functions of a parameter dict and a ``urls`` object (absolute URLs for the
request); they raise :class:`ActionError`, which the view turns into CKAN's error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from django.utils.translation import gettext as _

from . import datasets as ds
from .formats import FORMATS, Format

MAX_ROWS = 1000  # CKAN's default ckan.search.rows_max
DEFAULT_ROWS = 10


class Urls(Protocol):
    def dataset_page(self, name: str) -> str: ...
    def download(self, name: str, extension: str) -> str: ...
    def catalog_page(self) -> str: ...
    def help(self, action: str) -> str: ...


@dataclass
class ActionError(Exception):
    """A CKAN error: its ``__type``, HTTP status and message (or field errors)."""

    type: str
    status: int
    message: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": self.type}
        if self.message:
            out["message"] = self.message
        out.update(self.fields)
        return out


def not_found(message: str) -> ActionError:
    return ActionError("Not Found Error", 404, message)


def validation_error(name: str, message: str) -> ActionError:
    return ActionError("Validation Error", 409, fields={name: [message]})


def _ckan_time(value: datetime | None) -> str | None:
    """CKAN writes naive UTC ISO times."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat()


def organization_dict(org: ds.Organization, *, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "title": str(org.title),
        "display_name": str(org.title),
        "description": str(org.description),
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def resource_dict(d: ds.Dataset, fmt: Format, urls: Urls) -> dict[str, Any]:
    return {
        "id": ds.stable_id("resource", d.name, fmt.extension),
        "package_id": d.id,
        "name": f"{d.title} ({fmt.name})",
        "description": "",
        "format": fmt.name,
        "mimetype": fmt.mimetype,
        "url": urls.download(d.name, fmt.extension),
        "url_type": None,
        "state": "active",
        "last_modified": None,
    }


def package_dict(d: ds.Dataset, urls: Urls) -> dict[str, Any]:
    modified = _ckan_time(d.modified())
    resources = [resource_dict(d, fmt, urls) for fmt in FORMATS.values()]
    return {
        "id": d.id,
        "name": d.name,
        "title": str(d.title),
        "notes": str(d.description),
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": urls.dataset_page(d.name),
        "license_id": ds.LICENSE_ID,
        "license_title": ds.LICENSE_TITLE,
        "license_url": ds.LICENSE_URL,
        "owner_org": d.organization.id,
        "organization": organization_dict(d.organization),
        "metadata_created": None,
        "metadata_modified": modified,
        "frequency": d.frequency.code,
        "extras": [
            {"key": "frequency", "value": d.frequency.code},
            {"key": "frequency_uri", "value": d.frequency.uri},
        ],
        "tags": [{"name": str(k), "display_name": str(k)} for k in d.keywords],
        "num_tags": len(d.keywords),
        "resources": resources,
        "num_resources": len(resources),
    }


# --- parameters -------------------------------------------------------------------------------


def _int(params: Mapping[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name, default)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise validation_error(name, _("必须是非负整数"))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise validation_error(name, _("必须是非负整数")) from None
    if value < 0:
        raise validation_error(name, _("必须是非负整数"))
    if maximum is not None and value > maximum:
        raise validation_error(name, _("不能大于 %(max)d") % {"max": maximum})
    return value


def _bool(params: Mapping[str, Any], name: str) -> bool:
    raw = params.get(name, False)
    return raw is True or str(raw).lower() in {"1", "true", "yes", "on"}


def _text(params: Mapping[str, Any], name: str) -> str:
    raw = params.get(name, "")
    if raw is None:
        return ""
    if not isinstance(raw, str | int | float):
        raise validation_error(name, _("必须是文本"))
    return str(raw).strip()


# --- the actions ------------------------------------------------------------------------------


def package_list(params: Mapping[str, Any], urls: Urls) -> list[str]:
    names = sorted(d.name for d in ds.all_datasets())
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", len(names))
    return names[offset : offset + limit]


def package_show(params: Mapping[str, Any], urls: Urls) -> dict[str, Any]:
    name = _text(params, "id")
    if not name:
        raise validation_error("id", _("缺少参数"))
    found = ds.dataset(name)
    if found is None:
        raise not_found(_("没有这个数据集：%(name)s") % {"name": name})
    return package_dict(found, urls)


_FILTER_FIELDS: dict[str, Callable[[ds.Dataset], list[str]]] = {
    "name": lambda d: [d.name],
    "id": lambda d: [d.id],
    "organization": lambda d: [d.organization.name],
    "owner_org": lambda d: [d.organization.id],
    "license_id": lambda d: [ds.LICENSE_ID],
    "res_format": lambda d: [f.name for f in FORMATS.values()],
    "frequency": lambda d: [d.frequency.code],
}


def _filters(fq: str) -> list[tuple[str, str]]:
    """``field:value`` terms of CKAN's ``fq``, for the fields in ``_FILTER_FIELDS``."""
    terms: list[tuple[str, str]] = []
    for term in fq.split():
        if term.startswith("+"):
            term = term[1:]
        key, sep, value = term.partition(":")
        if not sep or key not in _FILTER_FIELDS or not value:
            raise ActionError("Search Query Error", 400, _("不支持的过滤条件：%(term)s") % {"term": term})
        terms.append((key, value.strip('"')))
    return terms


def _matches(d: ds.Dataset, words: list[str]) -> bool:
    text = " ".join(
        [d.name, str(d.title), str(d.description), str(d.organization.title), *map(str, d.keywords)]
    ).lower()
    return all(w in text for w in words)


def package_search(params: Mapping[str, Any], urls: Urls) -> dict[str, Any]:
    q = _text(params, "q")
    rows = _int(params, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = _int(params, "start", 0)
    terms = _filters(_text(params, "fq"))
    # CKAN's match-all query, and a field query in q, as harvesters send them.
    words: list[str] = []
    for w in q.lower().split():
        if w in {"*:*", "*"}:
            continue
        key, sep, value = w.partition(":")
        if sep and key in _FILTER_FIELDS:
            terms.append((key, value.strip('"')))
        else:
            words.append(w)
    found = [
        d
        for d in sorted(ds.all_datasets(), key=lambda d: d.name)
        if _matches(d, words) and all(value in _FILTER_FIELDS[key](d) for key, value in terms)
    ]
    return {
        "count": len(found),
        "sort": "name asc",
        "facets": {},
        "search_facets": {},
        "results": [package_dict(d, urls) for d in found[start : start + rows]],
    }


def organization_list(params: Mapping[str, Any], urls: Urls) -> list[Any]:
    orgs = sorted(ds.organizations(), key=lambda o: o.name)
    if not _bool(params, "all_fields"):
        return [o.name for o in orgs]
    counts: dict[str, int] = {}
    for d in ds.all_datasets():
        counts[d.organization.name] = counts.get(d.organization.name, 0) + 1
    return [organization_dict(o, package_count=counts.get(o.name, 0)) for o in orgs]


ACTIONS: dict[str, Callable[[Mapping[str, Any], Urls], Any]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
}


# --- DCAT -------------------------------------------------------------------------------------

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _publisher(org: ds.Organization) -> dict[str, Any]:
    return {"@id": f"#org-{org.name}", "@type": "foaf:Organization", "foaf:name": str(org.title)}


def dcat_dataset(d: ds.Dataset, urls: Urls, *, context: bool = True) -> dict[str, Any]:
    modified = d.modified()
    out: dict[str, Any] = {}
    if context:
        out["@context"] = DCAT_CONTEXT
    out.update(
        {
            "@id": urls.dataset_page(d.name),
            "@type": "dcat:Dataset",
            "dct:identifier": d.id,
            "dct:title": str(d.title),
            "dct:description": str(d.description),
            "dct:publisher": _publisher(d.organization),
            "dct:license": {"@id": ds.LICENSE_URL},
            "dct:accrualPeriodicity": {"@id": d.frequency.uri},
            "dcat:keyword": [str(k) for k in d.keywords],
            "dcat:landingPage": {"@id": urls.dataset_page(d.name)},
            "dcat:distribution": [
                {
                    "@type": "dcat:Distribution",
                    "dct:title": f"{d.title} ({fmt.name})",
                    "dct:format": fmt.name,
                    "dcat:mediaType": fmt.mimetype,
                    "dcat:downloadURL": {"@id": urls.download(d.name, fmt.extension)},
                    "dcat:accessURL": {"@id": urls.dataset_page(d.name)},
                    "dct:license": {"@id": ds.LICENSE_URL},
                }
                for fmt in FORMATS.values()
            ],
        }
    )
    if modified is not None:
        out["dct:modified"] = {"@value": modified.astimezone(UTC).isoformat(), "@type": "xsd:dateTime"}
    return out


def dcat_catalog(urls: Urls, title: str, description: str) -> dict[str, Any]:
    return {
        "@context": DCAT_CONTEXT,
        "@id": urls.catalog_page(),
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dct:description": description,
        "dct:publisher": _publisher(ds.PLATFORM),
        "dct:license": {"@id": ds.LICENSE_URL},
        "foaf:homepage": {"@id": urls.catalog_page()},
        "dcat:dataset": [dcat_dataset(d, urls, context=False) for d in ds.all_datasets()],
    }
