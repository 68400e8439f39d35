"""Secret redaction: applied to every code/config text and every monitoring document before it is
stored or sent to an LLM. Three kinds of rules: key names (``password``, ``DB_PASS``, ``api_key``
… whatever the value), well-known token shapes (AWS, GitHub, Slack, Stripe, Google, JWT, private
keys, Slack/Teams webhook URLs), and credentials inside URLs or ``login(user, "…")`` calls."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED", "SECRET_NAME", "redact", "redact_env", "redact_value"]

REDACTED = "<redacted>"

_NAME_PATTERN = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret"
    r"|credentials?|[a-z0-9]*_pass(?:word)?)"
)
#: a field or variable name that holds a secret, whatever its value
SECRET_NAME = re.compile(rf"(?i)^(?:.*[_.-])?{_NAME_PATTERN}(?:[_.-].*)?$|^pass$")
# quoted values may hold spaces and commas; unquoted ones end at a separator
_QUOTED = re.compile(rf"(?i)({_NAME_PATTERN}[\w-]*[\"']?\s*[:=]\s*)([\"'])(.{{4,}}?)(\2)")
_ASSIGNMENT = re.compile(rf"(?i)({_NAME_PATTERN}[\w-]*[\"']?\s*[:=]\s*)([\"']?)([^\s\"',;)]{{4,}})(\2)")
_LOGIN_CALL = re.compile(
    r"(?i)(\b(?:login|authenticate|auth|connect|sign_in)\s*\(\s*[^,()]+,\s*)([\"'])([^\"']{3,})(\2)"
)
_AUTH_HEADER = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|apk)\s+)([\w\-.=+/]{8,})")
_URL_CREDENTIALS = re.compile(r"(?i)(\w+://[^:/\s]+:)([^@\s]{3,})(@)")
_TOKENS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,}\b"),  # Stripe
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),  # Slack webhook
    re.compile(r"https://[\w.-]*webhook\.office\.com/[^\s\"']+"),  # Teams webhook
    re.compile(r"(?i)\b(?:aws_secret_access_key|secret_access_key)\b\s*[:=]\s*\S+"),
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z_.]*$")


def _assignment(match: re.Match[str]) -> str:
    key, quote, value, close = match.group(1), match.group(2), match.group(3), match.group(4)
    if not quote and _IDENTIFIER.match(value):  # `api_key = api_key`: a variable, not a secret
        return match.group(0)
    return f"{key}{quote}{REDACTED}{close}"


def redact(text: str) -> str:
    text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(4)}", text)
    text = _ASSIGNMENT.sub(_assignment, text)
    text = _LOGIN_CALL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(4)}", text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    for rule in _TOKENS:
        text = rule.sub(REDACTED, text)
    return text


def redact_value(key: str, value: Any) -> Any:
    """A document field: the whole value when the key names a secret, else its text redacted."""
    if SECRET_NAME.match(key.rsplit(".", 1)[-1]) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
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
