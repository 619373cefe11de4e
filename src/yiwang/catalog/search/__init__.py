"""Chinese full-text search over the published catalogue, in the database (no search server).

Public API (see docs/search.md):

- ``index_versions(versions)``: upsert the index rows of current versions (publish, bulk_publish);
- ``remove_items(item_ids)``: drop withdrawn items; ``rebuild_index(progress=None)``: rebuild all;
- ``search_items(q, *, region_code, department_id, audience, item_type, level, page, per_page)``
  returning a ``SearchResult``;
- ``highlight(text, q)``: HTML-safe text with the matched characters in <mark>.
"""

from __future__ import annotations

from .highlight import highlight
from .index import index_versions, rebuild_index, remove_items
from .query import SearchResult, search_items

__all__ = ["SearchResult", "highlight", "index_versions", "rebuild_index", "remove_items", "search_items"]
