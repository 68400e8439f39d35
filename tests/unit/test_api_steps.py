"""NEEDS edges: which operations yield the ids another operation needs (pure rule on specs)."""

from __future__ import annotations

from typing import Any

from flowrag.extract.api_steps import Operation, fold_resource, id_resource, prerequisites
from flowrag.extract.openapi import extract_spec
from flowrag.schema import RelType


def test_resource_names_fold_the_same_way() -> None:
    assert fold_resource("VDBs") == fold_resource("vdb") == id_resource("vdbId") == "vdb"
    assert id_resource("snapshot_id") == "snapshot" and id_resource("pet-ids") == "pet"
    assert fold_resource("categories") == "category" and fold_resource("address") == "address"
    assert id_resource("id") is None and id_resource("status") is None  # bare or not id-like


def test_consumers_link_to_list_producers_first() -> None:
    ops = [
        Operation("refresh", "POST", "/vdbs/{vdbId}/refresh", ("snapshot_id", "name")),
        Operation("get", "GET", "/vdbs/{vdbId}", produces=frozenset({"vdb"})),
        Operation("list", "GET", "/vdbs", produces=frozenset({"vdbpage"}), lists=True),
        Operation("search", "POST", "/vdbs/search"),
        Operation("snaps", "GET", "/snapshots"),
        Operation("create", "POST", "/snapshots", produces=frozenset({"snapshot"})),
        Operation("comments", "DELETE", "/articles/{slug}/comments/{id}"),
        Operation("articles", "GET", "/articles"),
        Operation("article_comments", "GET", "/articles/{slug}/comments"),
    ]
    edges = prerequisites(ops)
    assert [(p, i) for c, p, i in edges if c == "refresh"] == [
        ("list", "vdbId"),
        ("search", "vdbId"),
        ("snaps", "snapshot_id"),
        ("create", "snapshot_id"),
    ]
    assert not [e for e in edges if e[0] == "get" and e[1] == "get"]  # GET /vdbs/{vdbId} needs its id
    # a bare {slug} or {id} names the collection segment before it
    assert ("comments", "articles", "slug") in edges
    assert ("comments", "article_comments", "id") in edges


def _spec() -> dict[str, Any]:
    pet = {"$ref": "#/components/schemas/Pet"}
    ok_list = {
        "200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"type": "array", "items": pet}}},
        }
    }
    ok_one = {"200": {"description": "ok", "content": {"application/json": {"schema": pet}}}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Shop", "version": "1"},
        "paths": {
            "/pet/findByStatus": {"get": {"operationId": "findPetsByStatus", "responses": ok_list}},
            "/pet/{petId}/uploadImage": {
                "post": {
                    "operationId": "uploadFile",
                    "parameters": [{"name": "petId", "in": "path", "required": True}],
                    "responses": ok_one,
                }
            },
            "/pet/{petId}": {
                "get": {
                    "operationId": "getPetById",
                    "parameters": [{"name": "petId", "in": "path", "required": True}],
                    "responses": ok_one,
                }
            },
        },
        "components": {"schemas": {"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}}},
    }


def test_extracted_spec_carries_needs_edges() -> None:
    out = extract_spec(_spec(), "shop")
    needs = sorted((r.start_uid, r.end_uid, r.props["input"]) for r in out.rels if r.type == RelType.NEEDS)
    find = "Endpoint:shop:GET /pet/findByStatus"
    assert needs == [
        ("Endpoint:shop:GET /pet/{petId}", find, "petId"),
        ("Endpoint:shop:POST /pet/{petId}/uploadImage", find, "petId"),
    ]
