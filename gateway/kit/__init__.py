"""Module-neutral machinery every module may import; the kit imports no module.

Pieces (each documented in docs/kit.md):

- ``calendar`` — China Standard Time (``now_cst``, ``to_cst``), working days with the State
  Council's public holidays and adjusted working weekends (``is_working_day``,
  ``add_working_days``, ``working_days_between``); data in ``holidays_cn.json``.
- ``opening_hours`` — whether a service place is open now, closed on public holidays and open
  on adjusted working weekends (``opening_state``, ``describe_hours``).
- ``generations`` — derived data cached per data generation, bumped on every write
  (``Generations``).
- ``ratelimit`` — token buckets over the shared cache, atomic in Redis (``TokenBucket``),
  leased to a process a few tokens at a time (``LeasedBuckets``); ``client_key`` for addresses.
- ``textsearch`` — Chinese normalisation, segmentation, pinyin, inverted index and ranking.
- ``connections`` — Relay connections with opaque keyset cursors.
- ``nodes`` — Relay global object identification: the ``Node`` interface, global ids
  (``global_id``, ``parse_global_id``) and the batched lookup behind ``node``/``nodes``.
- ``opaque`` — the one strict base64url spelling of cursors and global ids.
"""
