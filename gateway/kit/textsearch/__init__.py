"""Chinese text search building blocks, module-neutral (imports no ``modules.*``).

* ``normalize`` — one canonical form for indexing and querying: NFKC (full-width →
  half-width), traditional → simplified (OpenCC ``t2s``), lower case, punctuation → space.
* ``segment`` — a :class:`Segmenter` per index: its own ``jieba.Tokenizer`` and
  vocabulary (never jieba's global dictionary, so two indexes cannot leak words into
  each other), with character bigrams as a fallback for words the dictionary lacks and
  single characters kept where they carry meaning (犬, 狗).
* ``pinyin`` — full-pinyin and initials keys (pypinyin), so homophone typos from
  pinyin keyboards (公鸡金 → 公积金) and pinyin input (``shebao``, ``yyzz``) match;
  per-character syllables and the spans of a text that sound like a word.
* ``scoring`` — a BM25-family scorer: idf per term from posting-list lengths, field
  weights, and a minimum-should-match rule over the query's characters.
* ``highlight`` — HTML-escaped ``<em>`` marking and character ranges, matching
  homophones too.

A module keeps its inverted index in its own MongoDB collections (one posting document
per field and term, read by primary key); this package computes what goes in it and how
a query is scored against it.
"""

from gateway.kit.textsearch.highlight import mark, ranges
from gateway.kit.textsearch.normalize import normalize, to_simplified
from gateway.kit.textsearch.pinyin import initials, is_pinyin_like, pinyin, sound_spans, syllables
from gateway.kit.textsearch.scoring import FieldWeights, idf, minimum_should_match
from gateway.kit.textsearch.segment import DEFAULT_STOPWORDS, Segmenter

__all__ = [
    "DEFAULT_STOPWORDS",
    "FieldWeights",
    "Segmenter",
    "idf",
    "initials",
    "is_pinyin_like",
    "mark",
    "minimum_should_match",
    "normalize",
    "pinyin",
    "ranges",
    "sound_spans",
    "syllables",
    "to_simplified",
]
