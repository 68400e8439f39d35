"""Where a report goes: a folder, a Slack incoming webhook, a Teams webhook, an SMTP server.

A channel raises :class:`DeliveryError` with a one-line reason; ``permanent`` says that retrying
cannot help (bad credentials, a webhook that refuses the payload), so the sender stops at once.
No message, log line or stored status carries a webhook URL or a password."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import urlsplit

from flowrag.report.facts import Report
from flowrag.report.render import chart_png, slack_blocks, subject, teams_card, to_html, to_json, to_markdown
from flowrag.settings import ReportSettings

__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "FilesChannel",
    "SlackChannel",
    "TeamsChannel",
    "build_email",
    "configured_channels",
]

CHANNEL_NAMES = ("files", "slack", "teams", "email")


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    async def send(self, report: Report) -> str:
        """Deliver; return a short description of where it went (no secret)."""


def _host(url: str) -> str:
    """What a message may say about a webhook: its host, never its path (the path is the secret)."""
    return urlsplit(url).hostname or "?"


def _http_failure(status: int, body: str, where: str) -> DeliveryError:
    # 4xx other than 408/429 means the request itself is refused: retrying sends the same request
    permanent = 400 <= status < 500 and status not in (408, 429)
    return DeliveryError(f"{where} answered HTTP {status}: {body[:200].strip()}", permanent=permanent)


@dataclass
class FilesChannel:
    folder: Path
    formats: tuple[str, ...] = ("md", "html")
    name: str = "files"

    async def send(self, report: Report) -> str:
        render = {"md": to_markdown, "html": to_html, "json": to_json}
        unknown = [f for f in self.formats if f not in render]
        if unknown:
            raise DeliveryError(
                f"unknown report format(s) {', '.join(unknown)} (use md, html, json)", permanent=True
            )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            written = []
            for fmt in self.formats:
                path = self.folder / f"flowrag-report-{report.day}.{fmt}"
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_text(render[fmt](report), "utf-8")
                tmp.replace(path)  # a reader never sees half a report
                written.append(path.name)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self.folder}: {exc.strerror or exc}", permanent=True
            ) from None
        return f"{self.folder} ({', '.join(written)})"


@dataclass
class SlackChannel:
    url: str
    timeout_s: float = 15.0
    name: str = "slack"

    async def send(self, report: Report) -> str:
        from slack_sdk.webhook import WebhookClient

        t = subject(report)
        client = WebhookClient(self.url, timeout=int(max(1, self.timeout_s)))
        try:
            response = await asyncio.to_thread(client.send, text=t, blocks=slack_blocks(report))
        except TimeoutError:
            raise DeliveryError(
                f"Slack webhook at {_host(self.url)} did not answer within {self.timeout_s:g} s"
            ) from None
        except OSError as exc:  # URLError, timeouts, refused connections
            raise DeliveryError(f"Slack webhook at {_host(self.url)} unreachable: {_reason(exc)}") from None
        if response.status_code != 200:
            raise _http_failure(
                response.status_code, str(response.body), f"Slack webhook at {_host(self.url)}"
            )
        return f"Slack ({_host(self.url)})"


@dataclass
class TeamsChannel:
    url: str
    timeout_s: float = 15.0
    name: str = "teams"

    async def send(self, report: Report) -> str:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
                response = await client.post(self.url, json=teams_card(report))
        except httpx.TimeoutException:
            raise DeliveryError(
                f"Teams webhook at {_host(self.url)} did not answer within {self.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"Teams webhook at {_host(self.url)} unreachable: {type(exc).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise _http_failure(response.status_code, response.text, f"Teams webhook at {_host(self.url)}")
        return f"Teams ({_host(self.url)})"


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
    return str(reason)


def build_email(report: Report, sender: str, recipients: list[str]) -> EmailMessage:
    """A multipart message: the Markdown as text, and HTML with the chart as an inline PNG."""
    msg = EmailMessage()
    msg["Subject"] = subject(report)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] if "@" in sender else None)
    msg.set_content(to_markdown(report))
    cid = make_msgid(domain="flowrag.chart")
    msg.add_alternative(
        to_html(report, chart=f'<img src="cid:{cid[1:-1]}" alt="chart" width="720">'), subtype="html"
    )
    html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
    html_part.add_related(chart_png(report), "image", "png", cid=cid, filename=f"runs-{report.day}.png")
    return msg


@dataclass
class EmailChannel:
    settings: ReportSettings
    name: str = "email"

    def _send_sync(self, msg: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.smtp_ca_bundle) if s.smtp_ca_bundle else None)
        smtp: smtplib.SMTP
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_s)
        with smtp:
            smtp.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"SMTP server {s.smtp_host}:{s.smtp_port} does not offer STARTTLS "
                        "(set FLOWRAG_REPORT__SMTP_STARTTLS=false only on a trusted network)",
                        permanent=True,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(msg)

    async def send(self, report: Report) -> str:
        s = self.settings
        if not s.mail_from or not s.mail_to:
            raise DeliveryError(
                "the e-mail channel needs FLOWRAG_REPORT__MAIL_FROM and FLOWRAG_REPORT__MAIL_TO "
                "(JSON list: '[\"team@bank.fr\"]')",
                permanent=True,
            )
        msg = build_email(report, s.mail_from, list(s.mail_to))
        where = f"SMTP server {s.smtp_host}:{s.smtp_port}"
        try:
            await asyncio.to_thread(self._send_sync, msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where} refused the login of {s.smtp_user!r} ({exc.smtp_code})", permanent=True
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"{where} refused the recipients {', '.join(exc.recipients)}", permanent=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(
                f"{where} answered {exc.smtp_code}: {text[:200]}", permanent=permanent
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"{where}: TLS failed ({exc.reason or exc}); check FLOWRAG_REPORT__SMTP_CA_BUNDLE",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where} unreachable: {_reason(exc)}") from None
        return f"e-mail to {len(s.mail_to)} recipient(s) via {s.smtp_host}"


def configured_channels(settings: ReportSettings) -> dict[str, Channel]:
    """The channels whose settings are filled in, by name."""
    out: dict[str, Channel] = {}
    if settings.folder is not None:
        out["files"] = FilesChannel(settings.folder, tuple(settings.file_formats))
    if settings.slack_webhook.get_secret_value():
        out["slack"] = SlackChannel(settings.slack_webhook.get_secret_value(), settings.timeout_s)
    if settings.teams_webhook.get_secret_value():
        out["teams"] = TeamsChannel(settings.teams_webhook.get_secret_value(), settings.timeout_s)
    if settings.smtp_host:
        out["email"] = EmailChannel(settings)
    return out
