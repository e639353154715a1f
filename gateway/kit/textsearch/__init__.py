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
* ``spelling`` — "did you mean": a query's pinyin-keyboard typos and typed pinyin
  replaced by the index's own words that sound the same (公鸡金 → 公积金, shebao → 社保).
* ``index`` — :class:`~gateway.kit.textsearch.index.InvertedIndex`: the inverted index
  in MongoDB, one per namespace (a module's own collections), posting lists of document
  numbers read as numpy arrays, kept up to date on every write and rebuildable.

A module computes what goes into its index with these pieces (its fields, weights and
priors are its own business) and scores a query against the posting lists it reads.
"""

from gateway.kit.textsearch.highlight import mark, ranges
from gateway.kit.textsearch.normalize import normalize, to_simplified
from gateway.kit.textsearch.pinyin import initials, is_pinyin_like, pinyin, sound_spans, syllables
from gateway.kit.textsearch.scoring import FieldWeights, idf, minimum_should_match
from gateway.kit.textsearch.segment import DEFAULT_STOPWORDS, Segmenter
from gateway.kit.textsearch.spelling import Spelling

__all__ = [
    "DEFAULT_STOPWORDS",
    "FieldWeights",
    "Segmenter",
    "Spelling",
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
