"""File uploads: GraphQL multipart requests into GridFS, signed downloads.

``formats`` (kinds, sniffing, safe names), ``multipart`` (reading a request within the
limits), ``store`` (every MongoDB access), ``service`` (the rules; ``ctx.uploads``),
``signing`` (download URLs), ``schema`` (GraphQL), ``routes`` (``GET /files/<id>``).
"""
