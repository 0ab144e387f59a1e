"""Reading files as parsers want them: chunked at line boundaries, bounded, cleaned."""

from __future__ import annotations

from trtsweep.parsers.textio import MAX_CHUNK, clean_line, decode_line, iter_raw_chunks


def test_chunks_end_at_line_boundaries_and_lose_nothing(tmp_path):
    path = tmp_path / "log"
    lines = [f"[11/25/2026-04:00:00] [V] line {i} " + "x" * (i % 300) for i in range(20000)]
    path.write_text("\n".join(lines) + "\n")
    chunks = list(iter_raw_chunks(path, chunk_size=4096))
    assert len(chunks) > 10
    assert b"\n".join(chunks).decode().split("\n") == lines


def test_a_file_without_newlines_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"A" * (3 * MAX_CHUNK + 123))
    sizes = [len(c) for c in iter_raw_chunks(path)]
    assert sum(sizes) == 3 * MAX_CHUNK + 123
    assert max(sizes) <= MAX_CHUNK + (1 << 20)


def test_decode_line_cleans_ansi_crlf_and_bare_cr():
    assert decode_line(b"\x1b[32m[I]\x1b[0m Throughput: 1 qps\r") == ["[I] Throughput: 1 qps"]
    assert decode_line(b"progress 10%\rprogress 100%") == ["progress 10%", "progress 100%"]
    assert decode_line(b"caf\xe9") == ["caf\ufffd"]
    assert clean_line("a\x00b\r\n") == "ab"
