"""Opaque tokens: the one spelling of text as unpadded base64url, read back strictly.

Cursors (:mod:`gateway.kit.connections`) and global ids (:mod:`gateway.kit.nodes`) are
both opaque to clients but must be exact for us: a token that decodes to the same text
under a second spelling (padding, the standard alphabet, stray characters that a
lenient decoder skips, non-zero trailing bits) would be a second cache key for one
object in Apollo or Relay, and a door to inputs nobody tested. So a token is accepted
only when it is exactly what :func:`encode_opaque` makes of the text it decodes to.

Example::

    token = encode_opaque("AffairItem:11440303MB2D07321K3442111817000")
    decode_opaque(token, max_chars=500)  # the text again
    decode_opaque(token + "==", max_chars=500)  # ValueError: not the canonical spelling
"""

from __future__ import annotations

import base64

__all__ = ["decode_opaque", "encode_opaque"]


def encode_opaque(text: str) -> str:
    """``text`` (UTF-8) as unpadded base64url: ASCII letters, digits, ``-`` and ``_``."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_opaque(token: str, *, max_chars: int) -> str:
    """The text ``token`` spells.

    Raises:
        ValueError: unless ``token`` is ASCII, at most ``max_chars`` long, valid
            base64url of UTF-8 text, and exactly what :func:`encode_opaque` makes of it.
    """
    # Checked before decoding, so an absurd input costs nothing.
    if not token.isascii() or len(token) > max_chars:
        raise ValueError("not an opaque token")
    try:
        text = base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError("not base64url of UTF-8 text") from None
    if encode_opaque(text) != token:
        raise ValueError("not the canonical spelling")
    return text
