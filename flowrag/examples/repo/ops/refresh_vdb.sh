#!/usr/bin/env bash
# Refresh a VDB to a point in time (run by the on-call engineer when a QA refresh failed).
# usage: refresh_vdb.sh VDB_ID TIMESTAMP
set -euo pipefail

refresh_by_timestamp() {
  curl -sS -X POST -H "Authorization: apk ${DCT_API_KEY}" -H "Content-Type: application/json" \
    "${DCT_URL}/v3/vdbs/$1/refresh_by_timestamp" -d "{\"timestamp\": \"$2\"}"
}

refresh_by_timestamp "$1" "$2"
