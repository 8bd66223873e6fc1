from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

from bitmapist_async._core import decode, numpy_lazy
from bitmapist_async._core.decode import (
    decode_id_array,
    decode_ids,
    decode_ids_numpy,
    decode_ids_python,
)


def encode(ids: set[int]) -> bytes:
    if not ids:
        return b""
    data = bytearray(max(ids) // 8 + 1)
    for uid in ids:
        data[uid // 8] |= 0x80 >> (uid % 8)
    return bytes(data)


IDS = st.sets(st.one_of(st.integers(0, 100), st.integers(0, 2_000_000)), max_size=200)


@given(IDS)
def test_python_decoder_matches_model(ids: set[int]) -> None:
    assert decode_ids_python(encode(ids)) == sorted(ids)


@given(IDS, st.sampled_from([True, False]))
def test_id_array_matches_model(ids: set[int], use_numpy: bool) -> None:
    if use_numpy:
        pytest.importorskip("numpy")
    result = decode_id_array(encode(ids), use_numpy=use_numpy)
    assert result.typecode == "I"
    assert result.tolist() == sorted(ids)


@given(IDS)
def test_numpy_decoder_matches_model(ids: set[int]) -> None:
    pytest.importorskip("numpy")
    assert decode_ids_numpy(encode(ids)) == sorted(ids)


def test_zero_padding_and_chunk_edges() -> None:
    edge = decode._CHUNK * 8
    ids = {0, 7, edge - 1, edge, edge + 8, 3 * edge + 5}
    data = encode(ids) + b"\0" * 100
    assert decode_ids_python(data) == sorted(ids)
    assert decode_ids(data, use_numpy=False) == sorted(ids)
    assert decode_ids_python(b"\0" * 10) == []
    assert decode_ids_python(b"") == []


def test_numpy_required_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numpy_lazy, "_module", None)
    assert not decode.have_numpy()
    with pytest.raises(RuntimeError, match="numpy"):
        decode_ids(b"\x80", use_numpy=True)
    assert decode_ids(b"\x80") == [0]
