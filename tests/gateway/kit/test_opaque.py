"""The one spelling of an opaque token: unpadded base64url, read back strictly."""

from __future__ import annotations

import base64

import pytest

from gateway.kit.opaque import decode_opaque, encode_opaque


def test_round_trip_is_unpadded_base64url_of_utf8() -> None:
    for text in ("", "a", "ab", "abc", "事项:甲-001", "??>>"):
        token = encode_opaque(text)
        assert token == base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        assert "=" not in token and token.isascii()
        assert decode_opaque(token, max_chars=100) == text


@pytest.mark.parametrize(
    "token",
    [
        encode_opaque("abcd") + "==",  # padding
        base64.b64encode(b"??>>").decode(),  # the standard alphabet (+ /)
        "YWJj*ZA",  # a stray character a lenient decoder skips
        "YR",  # non-zero trailing bits: decodes to "a" like "YQ"
        "Y",  # no whole byte
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),  # not UTF-8
        base64.urlsafe_b64encode(b"\xed\xa0\x80").decode().rstrip("="),  # a lone surrogate
        "标识",
        "A" * 101,
    ],
)
def test_anything_but_the_canonical_spelling_is_refused(token: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - one error for every malformed token
        decode_opaque(token, max_chars=100)
