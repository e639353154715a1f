"""Personal numbers never reach a log line: the scrubber on its own (the HTTP tests in
test_errors.py and test_ops.py check it in a running gateway's log)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from gateway.observability import AccessLog, JsonFormatter, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机 13800138000 已验证", "手机 138****8000 已验证"),
        ("X13800138000Y", "X138****8000Y"),
        ("身份证 11010119900307851X", "身份证 110101********851X"),
        (
            "身份证 110101199003078515，手机 15912345678",
            "身份证 110101********8515，手机 159****5678",
        ),
        # Not personal numbers: left alone (also the quick path with no 11-digit run).
        ("POST /graphql 200", "POST /graphql 200"),
        ("订单 12345678901", "订单 12345678901"),  # 11 digits, not a mobile prefix
        ("1380013800", "1380013800"),  # 10 digits
        ("138001380001", "138001380001"),  # 12 digits: part of a longer number
        # WeChat ids, by their key (a duplicate-key error, a document's repr).
        (
            'E11000 dup key: { appid: "wx01", openid: "oGZUI0egBJY1zhBYw2KhdUfwVJJE" }',
            'E11000 dup key: { appid: "wx01", openid: "oGZU****" }',
        ),
        (
            "{'openid': 'oGZUI0egBJY1zhBYw2KhdUfwVJJE', 'unionid': 'o6_bmasdasdsad6_2sgVt7hMZOPfL'}",
            "{'openid': 'oGZU****', 'unionid': 'o6_b****'}",
        ),
        ("openid=oGZUI0egBJY1zhBYw2KhdUfwVJJE&x=1", "openid=oGZU****&x=1"),
        ("unionid 用户 13800138000", "unionid 用户 138****8000"),  # no value after the key
        # Signed tokens (access and refresh JWTs), wherever they are quoted.
        (
            "refresh eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1XzEyMyJ9.c2lnbmF0dXJlLWJ5dGVz used twice",
            "refresh eyJ…(token) used twice",
        ),
        ("Bearer eyJhbGci.eyJzdWIi.", "Bearer eyJ…(token)"),
        ("eyJ alone is no token", "eyJ alone is no token"),
    ],
)
def test_scrub_masks_mobiles_and_resident_ids_only(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_the_direct_access_line_is_the_line_logging_would_write() -> None:
    """AccessLog writes through the JSON handler's own formatter: same shape, same scrubbing."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        AccessLog().write("GET /u/13800138000 404", status=404, durationMs=0.5, route="other")
        logging.getLogger("onestop.access").info(
            "GET /u/13800138000 404", extra={"status": 404, "durationMs": 0.5, "route": "other"}
        )
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    direct, through_logging = (json.loads(line) for line in stream.getvalue().splitlines())
    for line in (direct, through_logging):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("time"))
    assert direct == through_logging
    assert direct["message"] == "GET /u/138****8000 404"
