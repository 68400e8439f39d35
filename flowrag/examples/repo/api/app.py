"""Internal API of the data-platform team (FastAPI)."""

from __future__ import annotations

import os

from fastapi import APIRouter, FastAPI

from delphix.client import DelphixClient

router = APIRouter()
client = DelphixClient(os.environ["DCT_URL"], os.environ["DCT_API_KEY"])


@router.get("/internal/vdbs")
def list_vdbs() -> list[dict]:
    """List the VDBs the team manages."""
    return client.list_vdbs()


@router.post("/internal/vdbs/{vdb_id}/refresh")
def refresh_vdb(vdb_id: str, snapshot_id: str | None = None) -> dict:
    """Refresh one VDB from a snapshot (latest when none is given) and return the job id."""
    job = client.refresh_vdb_by_snapshot(vdb_id, snapshot_id)
    return {"job_id": job}


app = FastAPI(title="data-platform internal API")
app.include_router(router)
