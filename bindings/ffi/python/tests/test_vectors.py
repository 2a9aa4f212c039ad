"""The shared state codec vectors (tests/vectors/state_codec.json) through the Python API: the
same values encode to the same bytes as in Rust, decode back, and every damaged blob is Corrupt."""

import base64
import json

import pytest

import conformance
from sessionkit import SessionkitError, StateCodec

DOC = json.loads((conformance.repo_root() / "tests/vectors/state_codec.json").read_text("utf-8"))
VECTORS = DOC["vectors"]
CORRUPT = DOC["corrupt"]


def test_vectors_cover_compression():
    assert len(VECTORS) >= 10
    assert sum(1 for v in VECTORS if v["compressed"]) >= 2
    assert len(CORRUPT) >= 8


@pytest.mark.parametrize("case", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encode_reproduces_the_bytes(case):
    codec = StateCodec(case["compression_threshold"], case["max_bytes"])
    encoded = codec.encode(json.loads(case["input_json"]))
    assert encoded.blob == base64.b64decode(case["blob_base64"])
    assert encoded.size == case["size"]
    assert encoded.compressed == case["compressed"]
    assert encoded.checksum == case["checksum"]


@pytest.mark.parametrize("case", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decode_reads_the_bytes(case):
    codec = StateCodec(case["compression_threshold"], case["max_bytes"])
    decoded = codec.decode(base64.b64decode(case["blob_base64"]))
    assert decoded.data_json == case["canonical_json"]
    assert decoded.data == json.loads(case["canonical_json"])
    assert decoded.checksum == case["checksum"]
    assert decoded.size == case["size"]
    assert decoded.compressed == case["compressed"]


@pytest.mark.parametrize("case", CORRUPT, ids=[v["name"] for v in CORRUPT])
def test_damaged_blobs_are_corrupt(case):
    codec = StateCodec(10_240, case["max_bytes"])
    with pytest.raises(SessionkitError) as caught:
        codec.decode(base64.b64decode(case["blob_base64"]))
    assert caught.value.kind == "Corrupt"
    assert isinstance(caught.value, SessionkitError.Corrupt)
