"""Vendor the GraphiQL page's assets so `flowrag serve` works on a network without internet access.

strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from unpkg.com; a bank's
closed network (and this project's CI) cannot reach it, which leaves a blank page. This script reads
the asset URLs from the installed strawberry's template, downloads each package's tarball from the npm
registry, checks npm's sha512 integrity and the template's SRI hash, and writes the files (with each
package's licence) under flowrag/api/static/graphiql/. Run it again after upgrading strawberry:
tests/api fails when the template references a file that is not vendored.

    python scripts/vendor_graphiql.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "flowrag" / "api" / "static" / "graphiql"
REGISTRY = "https://registry.npmjs.org"
_ASSET = re.compile(
    r'(?:src|href)="https://unpkg\.com/((?:@[^/]+/)?[^@/]+)@([^/]+)/([^"]+)"\s+integrity="([^"]+)"'
)


def template() -> str:
    import strawberry

    return (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text("utf-8")


def fetch_package(client: httpx.Client, name: str, version: str) -> tarfile.TarFile:
    meta = client.get(f"{REGISTRY}/{name}/{version}").raise_for_status().json()
    data = client.get(meta["dist"]["tarball"]).raise_for_status().content
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{name}@{version}: tarball integrity mismatch")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def main() -> None:
    assets = _ASSET.findall(template())
    if not assets:
        raise SystemExit("no unpkg assets found in strawberry's graphiql.html")
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        for name, version, path, sri in assets:
            archive = fetch_package(client, name, version)
            content = archive.extractfile(f"package/{path}")
            if content is None:
                raise SystemExit(f"{name}@{version} has no {path}")
            data = content.read()
            algorithm, _, expected = sri.partition("-")
            if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
                raise SystemExit(f"{name}@{version}/{path}: does not match the template's SRI hash")
            out = TARGET / f"{name}@{version}" / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            licence_file = TARGET / f"{name}@{version}" / "LICENSE"
            for member in archive.getnames():
                if re.fullmatch(r"package/(LICEN[CS]E|license)(\.md|\.txt)?", member):
                    licence = archive.extractfile(member)
                    if licence is not None:
                        licence_file.write_bytes(licence.read())
            if not licence_file.exists():  # no licence file in the tarball: record package.json's field
                manifest = archive.extractfile("package/package.json")
                spdx = json.loads(manifest.read())["license"] if manifest is not None else "unknown"
                licence_file.write_text(f"{name}@{version}: licence {spdx} (package.json)\n", "utf-8")
            print(f"vendored {name}@{version}/{path} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
