"""Error-message templates: mask the variable parts (timestamps, hosts, ids, paths, numbers) so
that the same error seen a thousand times is one ``Error`` node and one embedding.

``Container killed on host linux-db-07 after 3600s`` -> ``Container killed on host <HOST> after <NUM>``
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["ErrorTemplate", "extract_template"]

_MAX_INPUT = 4000  # characters of a message considered (stack traces are cut)

# Order matters: specific shapes first, numbers last. Error codes such as ORA-01555 or
# HTTP-404 are kept (they identify the error), so hosts need a lowercase letter run.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "<TS>",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
            r"|\b\d{2,4}[/-]\d{2}[/-]\d{2,4}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
            r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
        ),
    ),
    ("<URL>", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)),
    ("<ID>", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)),
    ("<IP>", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")),
    ("<PATH>", re.compile(r"(?<![\w<])(?:[A-Za-z]:)?(?:[/\\][\w.@{}$~+-]+){2,}[/\\]?")),
    ("<ID>", re.compile(r"\b[A-Za-z]+(?:_\d+){2,}[A-Za-z0-9_]*\b")),  # attempt_1445_0020_m_000_0
    ("<ID>", re.compile(r"\b[A-Za-z]+_-?\d{4,}\b")),  # blk_-3544583377289625738, job_1445
    ("<ID>", re.compile(r"\b[A-Za-z]+(?:_[A-Za-z]*\d+[A-Za-z0-9]*)+\b")),  # broadcast_9_piece0
    ("<ID>", re.compile(r"\b(?:0x)?[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b(?<=\w{8})|\b0x[0-9a-f]+\b", re.I)),
    (
        "<HOST>",
        re.compile(r"\b(?=[\w.-]*\d)(?=[\w.-]*[a-zA-Z]{2})[A-Za-z0-9]\w*(?:[-.][A-Za-z0-9]+)+\b(?<!\.\d)"),
    ),
    ("<NUM>", re.compile(r"(?<![\w<])[-+]?\d+(?:[.,]\d+)?(?:ms|s|m|h|kb|mb|gb|tb|b|%)?(?!\w)", re.I)),
)
# Kept verbatim: error codes (ORA-01555) and Java class names (java.lang.OutOfMemoryError,
# org.apache.hadoop.mapreduce.v2.app.job.event.JobEventType), which identify the error.
_KEEP = re.compile(r"\b[A-Z]{2,6}-\d{3,6}\b|\b(?:[a-z_][a-z0-9_]*\.){2,}[A-Z]\w*(?:\$\w+)?")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ErrorTemplate:
    template: str
    template_id: str  # stable: a hash of the template text
    variables: tuple[str, ...]


def extract_template(message: str) -> ErrorTemplate:
    text = _SPACES.sub(" ", message[:_MAX_INPUT]).strip()
    protected: dict[str, str] = {}

    def protect(match: re.Match[str]) -> str:
        key = "\ue000" + chr(0xE001 + len(protected)) + "\ue000"  # private-use, no digits
        protected[key] = match.group(0)
        return key

    text = _KEEP.sub(protect, text)
    variables: list[str] = []
    for placeholder, pattern in _RULES:

        def mask(match: re.Match[str], placeholder: str = placeholder) -> str:
            variables.append(match.group(0))
            return placeholder

        text = pattern.sub(mask, text)
    for key, value in protected.items():
        text = text.replace(key, value)
    text = re.sub(r"(<NUM>)(?:[ ,]+<NUM>)+", r"\1", text)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    return ErrorTemplate(text, digest, tuple(variables))
