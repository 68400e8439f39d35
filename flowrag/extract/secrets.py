"""Secret redaction: applied to every code/config text before it is stored or sent to an LLM."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact", "redact_env"]

REDACTED = "<redacted>"

_ASSIGNMENT = re.compile(
    r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret"
    r"|credentials?)[\w-]*[\"']?\s*[:=]\s*)([\"']?)([^\s\"',;)]{4,})(\2)"
)
_AUTH_HEADER = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|apk)\s+)([\w\-.=+/]{8,})")
_URL_CREDENTIALS = re.compile(r"(?i)(\w+://[^:/\s]+:)([^@\s]{3,})(@)")
_TOKENS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z_.]*$")


def _assignment(match: re.Match[str]) -> str:
    key, quote, value, close = match.group(1), match.group(2), match.group(3), match.group(4)
    if not quote and _IDENTIFIER.match(value):  # `api_key = api_key`: a variable, not a secret
        return match.group(0)
    return f"{key}{quote}{REDACTED}{close}"


def redact(text: str) -> str:
    text = _ASSIGNMENT.sub(_assignment, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    for rule in _TOKENS:
        text = rule.sub(REDACTED, text)
    return text


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
