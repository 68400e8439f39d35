"""Airflow DAG: nightly refresh of the orders_qa VDB from the latest production snapshot."""

from __future__ import annotations

import os

from delphix.client import DelphixClient


def refresh_orders_qa() -> str:
    """Refresh orders_qa and wait for the DCT job."""
    client = DelphixClient(os.environ["DCT_URL"], os.environ["DCT_API_KEY"])
    return client.refresh_vdb_by_snapshot("orders_qa")
