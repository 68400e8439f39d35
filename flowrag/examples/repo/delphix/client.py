"""Thin client for the Delphix Data Control Tower (DCT) v3 API."""

from __future__ import annotations

import requests


class DelphixClient:
    """Calls DCT with an API key (read from the environment, never hard-coded)."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"apk {api_key}"
        self.timeout = timeout

    def list_vdbs(self) -> list[dict]:
        """Return every VDB known to DCT."""
        response = self.session.get(f"{self.base_url}/v3/vdbs", timeout=self.timeout)
        response.raise_for_status()
        return response.json()["items"]

    def refresh_vdb_by_snapshot(self, vdb_id: str, snapshot_id: str | None = None) -> str:
        """Refresh a VDB from a snapshot of its parent dSource; returns the DCT job id."""
        payload = {"snapshot_id": snapshot_id} if snapshot_id else {}
        response = self.session.post(
            f"{self.base_url}/v3/vdbs/{vdb_id}/refresh_by_snapshot", json=payload, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()["job"]["id"]

    def create_bookmark(self, name: str, vdb_ids: list[str]) -> str:
        """Create a bookmark on the given VDBs (a named point in time)."""
        response = self.session.post(
            f"{self.base_url}/v3/bookmarks", json={"name": name, "vdb_ids": vdb_ids}, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()["bookmark"]["id"]

    def job_status(self, job_id: str) -> str:
        """Status of a DCT job (RUNNING, COMPLETED, FAILED…)."""
        response = self.session.get(f"{self.base_url}/v3/jobs/{job_id}", timeout=self.timeout)
        response.raise_for_status()
        return response.json()["status"]
