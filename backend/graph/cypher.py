"""Every Cypher statement of the Neo4j graph store, as named constants (and nothing else runs Cypher).

Statements are written for Neo4j 5. ArcadeDB (used by the tests over Bolt) understands them too, except the
ones listed in ``ARCADEDB_SKIPS``: that is the whole, named difference between the two dialects.
``tests/graph/test_cypher_lint.py`` checks every statement with Neo4j's own parser and semantic analysis
against ``SCHEMA`` and the example parameters in ``PARAMETERS``.

Model: (:Track {id, title, artist, label, genre, bpm, camelot, energy, duration_s})
  -[:BY_ARTIST]->(:Artist {name}), -[:ON_LABEL]->(:Label {name}), -[:IN_GENRE]->(:Genre {name});
  (:Track)-[:SIMILAR|HARMONIC {score, reasons, data}]->(:Track)   (data: a JSON text, maps are not properties)
  (:Track)-[:TRANSITION {score, reasons, sets, count}]->(:Track)   (sets: ids of the recordings)
  (:Track)-[:PLAYED_IN {positions}]->(:Track)                      (the recording is a track too)
"""

from __future__ import annotations

from typing import Any

# ---- schema (idempotent) -----------------------------------------------------------------------------------

CONSTRAINT_TRACK_ID = (
    "CREATE CONSTRAINT track_id IF NOT EXISTS FOR (t:Track) REQUIRE t.id IS UNIQUE"
)
CONSTRAINT_ARTIST_NAME = (
    "CREATE CONSTRAINT artist_name IF NOT EXISTS FOR (a:Artist) REQUIRE a.name IS UNIQUE"
)
CONSTRAINT_LABEL_NAME = (
    "CREATE CONSTRAINT label_name IF NOT EXISTS FOR (l:Label) REQUIRE l.name IS UNIQUE"
)
CONSTRAINT_GENRE_NAME = (
    "CREATE CONSTRAINT genre_name IF NOT EXISTS FOR (g:Genre) REQUIRE g.name IS UNIQUE"
)
INDEX_TRACK_BPM = "CREATE INDEX track_bpm IF NOT EXISTS FOR (t:Track) ON (t.bpm)"
INDEX_TRACK_CAMELOT = "CREATE INDEX track_camelot IF NOT EXISTS FOR (t:Track) ON (t.camelot)"
# Indexes are built in the background in Neo4j: wait, so the first writes already use them.
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

SCHEMA_STATEMENTS = (
    CONSTRAINT_TRACK_ID,
    CONSTRAINT_ARTIST_NAME,
    CONSTRAINT_LABEL_NAME,
    CONSTRAINT_GENRE_NAME,
    INDEX_TRACK_BPM,
    INDEX_TRACK_CAMELOT,
    AWAIT_INDEXES,
)

# ---- writes (batched UNWIND, idempotent MERGE) -------------------------------------------------------------

UPSERT_TRACKS = """
UNWIND $rows AS row
MERGE (t:Track {id: row.id})
SET t.title = row.title, t.artist = row.artist, t.label = row.label, t.genre = row.genre,
    t.bpm = row.bpm, t.camelot = row.camelot, t.energy = row.energy, t.duration_s = row.duration_s
"""
CLEAR_ENTITY_LINKS = """
UNWIND $ids AS id
MATCH (:Track {id: id})-[old:BY_ARTIST|ON_LABEL|IN_GENRE]->()
DELETE old
"""
LINK_ARTISTS = """
UNWIND $rows AS row
WITH row WHERE row.artist IS NOT NULL
MATCH (t:Track {id: row.id})
MERGE (a:Artist {name: row.artist})
MERGE (t)-[:BY_ARTIST]->(a)
"""
LINK_LABELS = """
UNWIND $rows AS row
WITH row WHERE row.label IS NOT NULL
MATCH (t:Track {id: row.id})
MERGE (l:Label {name: row.label})
MERGE (t)-[:ON_LABEL]->(l)
"""
LINK_GENRES = """
UNWIND $rows AS row
WITH row WHERE row.genre IS NOT NULL
MATCH (t:Track {id: row.id})
MERGE (g:Genre {name: row.genre})
MERGE (t)-[:IN_GENRE]->(g)
"""

# Relationship types cannot be parameters, so each kind has its own statement.
UPSERT_SIMILAR = """
UNWIND $rows AS row
MATCH (a:Track {id: row.source})
MATCH (b:Track {id: row.target})
MERGE (a)-[r:SIMILAR]->(b)
SET r.score = row.score, r.reasons = row.reasons, r.data = row.data
"""
UPSERT_HARMONIC = """
UNWIND $rows AS row
MATCH (a:Track {id: row.source})
MATCH (b:Track {id: row.target})
MERGE (a)-[r:HARMONIC]->(b)
SET r.score = row.score, r.reasons = row.reasons, r.data = row.data
"""
UPSERT_TRANSITION = """
UNWIND $rows AS row
MATCH (a:Track {id: row.source})
MATCH (b:Track {id: row.target})
MERGE (a)-[r:TRANSITION]->(b)
SET r.score = row.score, r.reasons = row.reasons, r.data = row.data,
    r.sets = row.sets, r.count = size(row.sets)
"""
DELETE_OUTGOING_SIMILAR = """
UNWIND $sources AS sid
MATCH (:Track {id: sid})-[r:SIMILAR]->()
DELETE r
"""
DELETE_OUTGOING_HARMONIC = """
UNWIND $sources AS sid
MATCH (:Track {id: sid})-[r:HARMONIC]->()
DELETE r
"""
DELETE_OUTGOING_TRANSITION = """
UNWIND $sources AS sid
MATCH (:Track {id: sid})-[r:TRANSITION]->()
DELETE r
"""
REMOVE_TRACK = "MATCH (t:Track {id: $id}) DETACH DELETE t"

# Recording a set again first forgets it: drop its id from the transitions it contributed to.
FORGET_SET_TRANSITIONS = """
MATCH (:Track {id: $set_id})<-[:PLAYED_IN]-(:Track)-[r:TRANSITION]->(:Track)
WHERE $set_id IN r.sets
WITH DISTINCT r
SET r.sets = [s IN r.sets WHERE s <> $set_id]
WITH r
SET r.count = size(r.sets), r.score = 1.0 - 0.5 ^ size(r.sets),
    r.reasons = ['played in sequence in ' + toString(size(r.sets)) +
                 CASE WHEN size(r.sets) = 1 THEN ' set' ELSE ' sets' END]
WITH r WHERE size(r.sets) = 0
DELETE r
"""
FORGET_SET_PLAYED_IN = """
MATCH (:Track)-[p:PLAYED_IN]->(:Track {id: $set_id})
DELETE p
"""
ADD_PLAYED_IN = """
UNWIND $rows AS row
MATCH (t:Track {id: row.id})
MATCH (m:Track {id: $set_id})
MERGE (t)-[p:PLAYED_IN]->(m)
SET p.positions = row.positions
"""
ADD_TRANSITIONS = """
UNWIND $pairs AS pair
MATCH (a:Track {id: pair.source})
MATCH (b:Track {id: pair.target})
MERGE (a)-[r:TRANSITION]->(b)
WITH r, CASE WHEN r.sets IS NULL THEN [$set_id]
             WHEN $set_id IN r.sets THEN r.sets
             ELSE r.sets + $set_id END AS sets
SET r.sets = sets, r.count = size(sets), r.score = 1.0 - 0.5 ^ size(sets),
    r.reasons = ['played in sequence in ' + toString(size(sets)) +
                 CASE WHEN size(sets) = 1 THEN ' set' ELSE ' sets' END]
"""

# ---- reads -------------------------------------------------------------------------------------------------

# One row per (neighbour, kind): the best edge either way; an outgoing edge wins a tie ('out' > 'in').
NEIGHBOURS = """
MATCH (a:Track {id: $id})-[r]-(b:Track)
WHERE type(r) IN $types AND b.id <> $id
WITH b, type(r) AS kind, r, CASE WHEN startNode(r) = a THEN 'out' ELSE 'in' END AS direction
ORDER BY r.score DESC, direction DESC
WITH b, kind, collect({score: r.score, reasons: r.reasons, data: r.data, sets: r.sets,
                       count: r.count, direction: direction})[0] AS best
WHERE ($bpm_min IS NULL OR b.bpm >= $bpm_min)
  AND ($bpm_max IS NULL OR b.bpm <= $bpm_max)
  AND ($camelot IS NULL OR b.camelot IN $camelot)
  AND ($genre IS NULL OR b.genre = $genre)
  AND ($min_score IS NULL OR best.score >= $min_score)
RETURN b.id AS id, b.title AS title, b.artist AS artist, b.label AS label, b.genre AS genre,
       b.bpm AS bpm, b.camelot AS camelot, b.energy AS energy, b.duration_s AS duration_s,
       kind, best.score AS score, best.reasons AS reasons, best.data AS data, best.sets AS sets,
       best.count AS count, best.direction AS direction
ORDER BY score DESC, id ASC, kind ASC
LIMIT $limit
"""
EXPAND = """
UNWIND $ids AS id
MATCH (:Track {id: id})-[r]-(:Track)
WHERE type(r) IN $types
RETURN startNode(r).id AS source, endNode(r).id AS target, type(r) AS kind, r.score AS score,
       r.reasons AS reasons, r.data AS data, r.sets AS sets, r.count AS count
"""
# The set-path search reads thousands of edges: ends, kind and score only.
EXPAND_LIGHT = """
UNWIND $ids AS id
MATCH (:Track {id: id})-[r]-(:Track)
WHERE type(r) IN $types
RETURN startNode(r).id AS source, endNode(r).id AS target, type(r) AS kind, r.score AS score
"""
TRACK_NODES = """
UNWIND $ids AS id
MATCH (t:Track {id: id})
RETURN t.id AS id, t.title AS title, t.artist AS artist, t.label AS label, t.genre AS genre,
       t.bpm AS bpm, t.camelot AS camelot, t.energy AS energy, t.duration_s AS duration_s
"""
CLUSTER_EDGES = """
MATCH (a:Track)-[r:SIMILAR|HARMONIC|TRANSITION]->(b:Track)
RETURN a.id AS source, b.id AS target, r.score AS score
"""
# A saved k-NN state: the graph worker restores its index from these instead of an O(n²) build.
STORED_SIMILAR = """
MATCH (a:Track)-[r:SIMILAR]->(b:Track)
RETURN a.id AS source, b.id AS target, r.score AS score, r.data AS data
"""
STORED_HARMONIC = """
MATCH (a:Track)-[r:HARMONIC]->(b:Track)
RETURN a.id AS source, b.id AS target, r.score AS score, r.data AS data
"""
STORED_TRANSITION = """
MATCH (a:Track)-[r:TRANSITION]->(b:Track)
RETURN a.id AS source, b.id AS target, r.score AS score, r.data AS data
"""
TRANSITIONS = """
MATCH (a:Track)-[r:TRANSITION]->(b:Track)
WHERE $id IS NULL OR a.id = $id OR b.id = $id
RETURN a.id AS source, b.id AS target, r.count AS count, r.sets AS sets
ORDER BY count DESC, source ASC, target ASC
LIMIT $limit
"""

# ---- dialects ----------------------------------------------------------------------------------------------

# ArcadeDB builds indexes synchronously and has no db.awaitIndexes procedure: nothing to wait for.
ARCADEDB_SKIPS = frozenset({AWAIT_INDEXES})

UPSERT_BY_KIND = {
    "similar": UPSERT_SIMILAR,
    "harmonic": UPSERT_HARMONIC,
    "transition": UPSERT_TRANSITION,
}
DELETE_OUTGOING_BY_KIND = {
    "similar": DELETE_OUTGOING_SIMILAR,
    "harmonic": DELETE_OUTGOING_HARMONIC,
    "transition": DELETE_OUTGOING_TRANSITION,
}
STORED_LISTS_BY_KIND = {
    "similar": STORED_SIMILAR,
    "harmonic": STORED_HARMONIC,
    "transition": STORED_TRANSITION,
}
TYPE_OF_KIND = {"similar": "SIMILAR", "harmonic": "HARMONIC", "transition": "TRANSITION"}
KIND_OF_TYPE = {v: k for k, v in TYPE_OF_KIND.items()}

# ---- what the linter needs ---------------------------------------------------------------------------------

SCHEMA: dict[str, list[str]] = {
    "labels": ["Track", "Artist", "Label", "Genre"],
    "relationshipTypes": [
        "SIMILAR",
        "HARMONIC",
        "TRANSITION",
        "PLAYED_IN",
        "BY_ARTIST",
        "ON_LABEL",
        "IN_GENRE",
    ],
    "propertyKeys": [
        "id",
        "title",
        "artist",
        "label",
        "genre",
        "bpm",
        "camelot",
        "energy",
        "duration_s",
        "name",
        "score",
        "reasons",
        "data",
        "sets",
        "count",
        "positions",
        # keys of the row maps passed as parameters
        "source",
        "target",
        "direction",
    ],
}

_TRACK_ROW = {
    "id": 1,
    "title": "t",
    "artist": "a",
    "label": "l",
    "genre": "g",
    "bpm": 120.0,
    "camelot": "8A",
    "energy": 0.5,
    "duration_s": 300.0,
}
_EDGE_ROW = {"source": 1, "target": 2, "score": 0.9, "reasons": ["r"], "data": "{}"}

# Example parameters of each statement (types matter to the linter, values do not).
PARAMETERS: dict[str, dict[str, Any]] = {
    "UPSERT_TRACKS": {"rows": [_TRACK_ROW]},
    "CLEAR_ENTITY_LINKS": {"ids": [1]},
    "LINK_ARTISTS": {"rows": [_TRACK_ROW]},
    "LINK_LABELS": {"rows": [_TRACK_ROW]},
    "LINK_GENRES": {"rows": [_TRACK_ROW]},
    "UPSERT_SIMILAR": {"rows": [_EDGE_ROW]},
    "UPSERT_HARMONIC": {"rows": [_EDGE_ROW]},
    "UPSERT_TRANSITION": {"rows": [{**_EDGE_ROW, "sets": [9]}]},
    "DELETE_OUTGOING_SIMILAR": {"sources": [1]},
    "DELETE_OUTGOING_HARMONIC": {"sources": [1]},
    "DELETE_OUTGOING_TRANSITION": {"sources": [1]},
    "REMOVE_TRACK": {"id": 1},
    "FORGET_SET_TRANSITIONS": {"set_id": 9},
    "FORGET_SET_PLAYED_IN": {"set_id": 9},
    "ADD_PLAYED_IN": {"set_id": 9, "rows": [{"id": 1, "positions": [0]}]},
    "ADD_TRANSITIONS": {"set_id": 9, "pairs": [{"source": 1, "target": 2}]},
    "NEIGHBOURS": {
        "id": 1,
        "types": ["SIMILAR"],
        "bpm_min": 120.0,
        "bpm_max": 130.0,
        "camelot": ["8A"],
        "genre": "g",
        "min_score": 0.1,
        "limit": 10,
    },
    "EXPAND": {"ids": [1], "types": ["HARMONIC"]},
    "EXPAND_LIGHT": {"ids": [1], "types": ["HARMONIC"]},
    "TRACK_NODES": {"ids": [1]},
    "TRANSITIONS": {"id": 1, "limit": 10},
}


def all_statements() -> dict[str, str]:
    """Every statement constant of this module by name (what the linter and the tests iterate)."""
    return {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }


__all__ = [
    "ARCADEDB_SKIPS",
    "PARAMETERS",
    "SCHEMA",
    "SCHEMA_STATEMENTS",
    "all_statements",
]
