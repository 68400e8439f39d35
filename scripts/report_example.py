"""Render the morning report of the bundled example into docs/ (run after `flowrag demo`).

Writes docs/report-example.md (the Markdown, also the e-mail's text part) and
docs/report-email.png: a screenshot, in Debian's chromium, of the HTML part of the e-mail exactly
as `flowrag report --send` builds it, with its inline chart.

FLOWRAG_DATA_DIR=… python scripts/report_example.py [--language fr] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
from email.message import EmailMessage
from pathlib import Path

from flowrag.demo import demo_settings
from flowrag.graph import open_store
from flowrag.report.channels import build_email
from flowrag.report.render import to_markdown
from flowrag.report.service import ReportService
from flowrag.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def email_page(msg: EmailMessage) -> str:
    """The HTML part with its cid: image inlined as a data URI (what a mail client shows)."""
    html = msg.get_body(("html",))
    assert html is not None
    page = str(html.get_content())  # type: ignore[attr-defined]
    for part in msg.walk():
        if part.get_content_type() == "image/png":
            cid = str(part["Content-ID"]).strip("<>")
            data = base64.b64encode(part.get_payload(decode=True)).decode()  # type: ignore[arg-type]
            page = page.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    return page


async def build(language: str) -> tuple[str, EmailMessage]:
    settings = demo_settings(load_settings())
    store = await open_store(settings, migrate=False)
    try:
        service = ReportService(store, settings, channels={})
        report = await service.build(service.day(None), language)
    finally:
        await store.close()
    return to_markdown(report), build_email(report, "flowrag@bank.example", ["data-platform@bank.example"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--language", default="fr")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    markdown, msg = asyncio.run(build(args.language))
    (ROOT / "docs" / "report-example.md").write_text(markdown, encoding="utf-8")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        page_file = Path(tmp) / "email.html"
        page_file.write_text(email_page(msg), encoding="utf-8")
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 820, "height": 900})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(ROOT / "docs" / "report-email.png"), full_page=True)
        browser.close()
    print("wrote docs/report-example.md and docs/report-email.png")


if __name__ == "__main__":
    main()
