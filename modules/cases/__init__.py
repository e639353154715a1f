"""办件: the transactional side of government services — appointments first (预约取号);
queues, cases, ratings and supervision build on them (issue 10).

A sibling of ``affairs`` rather than part of it: the catalog is read-mostly reference data
with versions and a search index, this is per-citizen transactional data with personal
data, its own permissions and its own load; it reads the catalog only through the
published ``affairs.catalog`` interface.
"""
