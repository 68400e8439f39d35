"""Secret redaction: applied to every text of every source before it is stored or sent to an LLM
(the Writer runs it on each row; the extractors also run it where they know a field's name).

Three layers:
- key names (``password``, ``DB_PASS``, ``api_key``, ``mot_de_passe`` … whatever the value), and
  credentials inside URLs, ``Authorization`` headers and ``login(user, "…")`` calls;
- the maintained detectors of ``detect-secrets`` (Yelp): every regex-based plugin (AWS, GitHub,
  GitLab, Slack, Stripe, Twilio, SendGrid, npm, PyPI, OpenAI, Discord, Telegram, Azure storage,
  IBM, JWT, basic auth …), its keyword detector, and its entropy detectors on quoted strings
  (base64 above 4.5 bits per character, hex above 3.0, its defaults), with its false-positive
  filters (templates, ``${VAR}`` references, UUIDs, sequential strings);
- for a document field whose whole value is one token, the same base64 entropy test (hex values
  are kept there: in monitoring data they are run, trace and object ids).
Lines are pre-filtered by one combined pattern, so text without a candidate costs one scan."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flowrag.schema import NodeRow

__all__ = ["REDACTED", "SECRET_NAME", "redact", "redact_env", "redact_row", "redact_value"]

REDACTED = "<redacted>"

_NAME_PATTERN = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret"
    r"|credentials?|[a-z0-9]*_pass(?:word)?|mot[_-]?de[_-]?passe|mdp)"
)
#: a field or variable name that holds a secret, whatever its value
SECRET_NAME = re.compile(rf"(?i)^(?:.*[_.-])?{_NAME_PATTERN}(?:[_.-].*)?$|^pass$")
# quoted values may hold spaces and commas; unquoted ones end at a separator
_QUOTED = re.compile(rf"(?i)({_NAME_PATTERN}[\w-]*[\"']?\s*[:=]\s*)([\"'])(.{{4,}}?)(\2)")
_ASSIGNMENT = re.compile(
    rf"(?i)({_NAME_PATTERN}[\w-]*[\"']?\s*[:=]\s*)([\"']?)(?![\w-]+:\s)([^\s\"',;()]{{4,}})(\2)"
)
_LOGIN_CALL = re.compile(
    r"(?i)(\b(?:login|authenticate|auth|connect|sign_in)\s*\(\s*[^,()]+,\s*)([\"'])([^\"']{3,})(\2)"
)
_AUTH_HEADER = re.compile(
    rf"(?i)((?:authorization|{_NAME_PATTERN})[\w-]*[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|apk|token)\s+)([\w\-.=+/]{{8,}})"
)
_URL_CREDENTIALS = re.compile(r"(?i)(\w+://[^:/\s]+:)([^@\s]{3,})(@)")
# the one rule that spans lines
_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----.*?-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----", re.S
)
# (a lower-case word every match contains, the rule): the word is checked first, with `in`
_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("akia", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),  # AWS access key id
    ("asia", re.compile(r"\bASIA[0-9A-Z]{16}\b")),  # AWS temporary access key id
    ("gh", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),  # GitHub tokens
    ("xox", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),  # Slack tokens
    ("eyj", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b")),  # JWT
    # formats detect-secrets 1.5 has no plugin for
    ("github_pat_", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}")),  # GitHub fine-grained token
    ("npm_", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),  # npm access token
    ("sk-", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}")),  # OpenAI project keys
    ("hv", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}")),  # HashiCorp Vault tokens
    ("dapi", re.compile(r"\bdapi[0-9a-f]{32}\b")),  # Databricks personal access token
    ("shp", re.compile(r"\bshp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}\b")),  # Shopify tokens
    ("jdbc:oracle:thin:", re.compile(r"(?<=jdbc:oracle:thin:)[^/@\s:]+/[^@\s]+(?=@)")),  # user/password@
    ("k_", re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,}\b")),  # Stripe
    ("aiza", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),  # Google API key
    ("hooks.slack.com", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")),  # Slack webhook
    ("webhook.office.com", re.compile(r"https://[\w.-]*webhook\.office\.com/[^\s\"']+")),  # Teams webhook
    ("secret_access_key", re.compile(r"\b(?i:aws_secret_access_key|secret_access_key)\b\s*[:=]\s*\S+")),
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z_.]*$")


def _case_switches(word: str) -> int:
    """Changes between lower and upper case: 1 in ``dbPassword``, about 8 in a random token."""
    letters = [c.isupper() for c in word if c.isalpha()]
    return sum(a != b for a, b in itertools.pairwise(letters))


def _assignment(match: re.Match[str]) -> str:
    key, quote, value, close = match.group(1), match.group(2), match.group(3), match.group(4)
    if not quote and _IDENTIFIER.match(value) and _case_switches(value) <= 4:
        return match.group(0)  # `api_key = api_key`, `pwd = dbPassword`: a variable, not a secret
    return f"{key}{quote}{REDACTED}{close}"


# a name rule can only match where one of these is (checked first: the rules scan every position)
_NAME_HINTS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "login",
    "connect",
    "sign_in",
    "mdp",
    "mot",
)


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``<redacted>``; idempotent. Secrets other than PEM
    blocks sit within a line, so lines are redacted one by one and cached: monitoring texts repeat
    most of their lines, and the Writer's pass over what an extractor already redacted is a lookup."""
    if not text:
        return text
    if "PRIVATE KEY" in text:
        text = _PEM.sub(REDACTED, text)
    if "\n" not in text:
        return _line(text)
    return "\n".join(map(_line, text.split("\n")))


def _line(line: str) -> str:
    return _redact_line(line) if len(line) > 2000 else _redact_cached(line)


def _redact_line(text: str) -> str:
    low = text.lower()
    if any(hint in low for hint in _NAME_HINTS):
        text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(4)}", text)
        text = _ASSIGNMENT.sub(_assignment, text)
        text = _LOGIN_CALL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(4)}", text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    for hint, rule in _TOKENS:
        if hint in low:
            text = rule.sub(REDACTED, text)
    found = sorted(set(_detected(text)), key=len, reverse=True)  # longest first: no partial leftovers
    for value in found:
        text = text.replace(value, REDACTED)
    return text


_redact_cached = functools.lru_cache(maxsize=65_536)(_redact_line)


class _Detectors:
    """detect-secrets' plugins, loaded once, and the pattern of its keyword detector's words."""

    def __init__(self) -> None:
        import importlib
        import inspect
        import pkgutil

        import detect_secrets.plugins as plugins
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import (
            Base64HighEntropyString,
            HexHighEntropyString,
        )
        from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

        regexes: list[re.Pattern[str]] = []
        for info in pkgutil.iter_modules(plugins.__path__):
            module = importlib.import_module(f"{plugins.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, RegexBasedDetector)
                    and cls is not RegexBasedDetector
                    and cls.__module__ == module.__name__
                    and cls.__name__ != "IPPublicDetector"  # addresses are facts here, not secrets
                ):
                    regexes += list(cls().denylist)
        self.regexes = tuple(regexes)
        self.keyword = KeywordDetector()
        self.base64 = Base64HighEntropyString()
        self.hex = HexHighEntropyString()
        self.keywords = re.compile("|".join(DENYLIST), re.I)


@functools.cache
def _detectors() -> _Detectors:
    return _Detectors()


def _regex_secret(match: re.Match[str]) -> str:
    """A capture group that starts after the match is the secret (``://user:(pw)@``, ``aws…=(key)``);
    one at the start is a prefix alternation (``(ghp|gho)_…``), so the whole match is."""
    for index in range(1, (match.re.groups or 0) + 1):
        if match.group(index) and match.start(index) > match.start():
            return match.group(index)
    return match.group(0).strip(" \t=:\"'")


# Every token-shaped secret the detectors know holds a random run of 11+ characters mixing letters
# and digits, between its separators (AWS 20, Artifactory 11+, Stripe's 24 after ``sk_live_``, JWT
# segments …). Random means over 3 bits of entropy per character (11 random characters of a
# 36-letter alphabet give ~3.3). Names and ids such as ``spark-node-3``, ``run-00000042`` or
# ``job_1445144423722_0020`` have no such run. Lines without one, and without a word the keyword
# detector looks for, cannot hold a detectable secret and skip the detectors.
_RUN = re.compile(r"[A-Za-z0-9+/=]{11,}")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[A-Za-z]")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


#: every keyword of detect-secrets' keyword detector contains one of these (tested)
KEYWORD_HINTS = ("key", "pass", "pwd", "secret", "contras")


def _candidate(line: str) -> bool:
    # over 3 bits needs over 8 distinct characters: the cheap test first
    return any(
        len(set(run)) > 8 and _DIGIT.search(run) and _LETTER.search(run) and _entropy(run) > 3.0
        for run in _RUN.findall(line)
    )


def _detected(text: str) -> Iterator[str]:
    from detect_secrets.filters.heuristic import (
        is_potential_uuid,
        is_prefixed_with_dollar_sign,
        is_sequential_string,
        is_templated_secret,
    )

    found = _detectors()
    for line in text.splitlines():
        if len(line) > 4000:
            continue
        low = line.lower()
        keyword = any(w in low for w in KEYWORD_HINTS) and found.keywords.search(line) is not None
        tokens = _candidate(line)
        if not tokens and not keyword:
            continue
        for regex in found.regexes:
            for match in regex.finditer(line):
                value = _regex_secret(match)
                if len(value) >= 4 and REDACTED not in value:
                    yield value
        quoted = tokens and ('"' in line or "'" in line)
        plugins = ([found.keyword] if keyword else []) + ([found.base64, found.hex] if quoted else [])
        for plugin in plugins:
            for secret in plugin.analyze_line(filename="", line=line, line_number=0):
                value = secret.secret_value or ""
                if (
                    len(value) >= 4
                    and REDACTED not in value
                    and not is_templated_secret(value)
                    and not is_prefixed_with_dollar_sign(value)
                    and not is_sequential_string(value)
                    and not is_potential_uuid(value)
                ):
                    yield value


def charset_entropy(data: str, charset: frozenset[str]) -> float:
    """detect-secrets' Shannon entropy over ``charset`` (characters outside it count in the length
    only), in one pass over the text instead of one ``count`` per charset character."""
    counts = Counter(c for c in data if c in charset)
    size = len(data)
    return -sum(n / size * math.log2(n / size) for n in counts.values()) if size else 0.0


@functools.lru_cache(maxsize=65536)
def _high_entropy_token(value: str) -> bool:
    """A whole field value that looks like a key: one base64-alphabet token over detect-secrets'
    base64 entropy limit (values repeat across documents: ids, statuses; cached)."""
    if len(value) < 20 or not _TOKEN_VALUE.fullmatch(value):
        return False
    plugin = _detectors().base64
    return charset_entropy(value, _charset(plugin.charset)) > plugin.entropy_limit


@functools.cache
def _charset(characters: str) -> frozenset[str]:
    return frozenset(characters)


_TOKEN_VALUE = re.compile(r"[A-Za-z0-9+/_=.-]+")


def redact_value(key: str, value: Any) -> Any:
    """A document field: the whole value when the key names a secret or the value is one
    high-entropy token, else its text redacted."""
    if SECRET_NAME.match(key.rsplit(".", 1)[-1]) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        if _high_entropy_token(value):
            return REDACTED
        return redact(value)
    if isinstance(value, list):
        return [redact_value(key, v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    return value


def redact_env(text: str) -> str:
    """Every value of a .env file is redacted, whatever its key."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            key = stripped.split("=", 1)[0]
            lines.append(f"{key}={REDACTED}")
        else:
            lines.append(line)
    return "\n".join(lines)


def redact_row(row: NodeRow) -> NodeRow:
    """The row as it may be stored: name, text, embedding text and every property redacted
    (identity and provenance — key, source id — are kept as they are)."""
    name, text = redact(row.name), redact(row.text)
    embed_text = redact(row.embed_text) if row.embed_text else row.embed_text
    props = {k: redact_value(k, v) if v not in (None, "") else v for k, v in row.props.items()}
    if (name, text, embed_text, props) == (row.name, row.text, row.embed_text, row.props):
        return row
    return replace(row, name=name, text=text, embed_text=embed_text, props=props)
