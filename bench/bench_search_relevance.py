"""Find's relevance on the shared corpus: nDCG@10 and recall@10 of words only, meaning only and hybrid,
over the judged query set in bench/data/search_judged.json (how it was judged: search_judged.md).

The corpus is analysed once with every installed analyzer (``vidlens analyze``, cached in
bench/.cache/search-corpus). A query's ranked moments become a ranked list of videos (each video at its
best moment), which is scored against the graded judgements. Picture queries have no words: they are
scored as picture+face ("vector") and as the full fusion ("hybrid").

The set is split in two halves ("tune", "test"). The ranking knobs (``rrf_k``, ``min_text_similarity``)
are chosen on the tune half only; both halves are reported with the chosen knobs and with the defaults.

    python bench/bench_search_relevance.py [--no-write]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CACHE, REPO, media_dir, stamp, write_section  # noqa: E402

JUDGED = REPO / "bench" / "data" / "search_judged.json"
DATA = CACHE / "search-corpus"
MEDIA_EXT = {".mp4", ".webm", ".mkv", ".avi", ".mpg", ".gif", ".wav", ".flac"}
MODES = {"words": ["words"], "meaning": ["meaning"], "hybrid": None}
IMAGE_MODES = {"vector": ["picture", "face"], "hybrid": None}


def analyse(media: Path) -> list[Path]:
    files = sorted(p for p in media.rglob("*") if p.suffix.lower() in MEDIA_EXT)
    marker = DATA / "analysed.json"
    if marker.is_file() and json.loads(marker.read_text()) == [str(p.relative_to(media)) for p in files]:
        return files
    r = subprocess.run([sys.executable, "-m", "vidlens", "analyze", *map(str, files), "--data-dir", str(DATA)],
                       stdout=subprocess.DEVNULL, check=False)
    if r.returncode not in (0, 1):  # 1: some file failed; the rest are analysed
        raise SystemExit(f"vidlens analyze failed ({r.returncode})")
    marker.write_text(json.dumps([str(p.relative_to(media)) for p in files]))
    return files


def query_image(media: Path, spec: dict[str, Any]) -> bytes:
    """A frame of a library clip, altered as a picture someone sends is: mirrored, halved or recompressed."""
    from PIL import Image, ImageOps

    from vidlens.media.ffmpeg import ffmpeg_exe

    png = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", str(spec["t"]), "-i", str(media / spec["file"]),
                          "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
                         capture_output=True, check=True, timeout=60).stdout
    img = Image.open(io.BytesIO(png)).convert("RGB")
    how = spec["transform"]
    img = ImageOps.mirror(img) if how == "mirror" else img.resize((img.width // 2, img.height // 2)) \
        if how == "half" else img
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=30 if how == "jpeg30" else 85)
    return buf.getvalue()


class _Memo:
    """The text embedder with each query embedded once: the same queries run under several knobs."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self._seen = inner, inner.name, {}

    def query(self, text: str) -> Any:
        if text not in self._seen:
            self._seen[text] = self.inner.query(text)
        return self._seen[text]

    def passages(self, texts: list[str]) -> Any:
        return self.inner.passages(texts)


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(v, 0) - 1) / math.log2(i + 2) for i, v in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def videos_of(result: dict[str, Any], paths: dict[str, str]) -> list[str]:
    out: list[str] = []
    for h in result["hits"]:
        p = paths[h["video_id"]]
        if p not in out:
            out.append(p)
    return out


def run(search: Any, queries: list[dict[str, Any]], images: dict[str, bytes],
        paths: dict[str, str]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(query type, mode) -> [(nDCG@10, recall@10)] per query."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for q in queries:
        modes = IMAGE_MODES if "image" in q else MODES
        for mode, rankers in modes.items():
            res = search.search(q.get("query"), image=images.get(q["id"]), limit=200, rankers=rankers)
            ranked = videos_of(res, paths)
            out[(q["type"], mode)].append((ndcg(ranked, q["relevant"]), recall(ranked, q["relevant"])))
    return out


def table(scores: dict[tuple[str, str], list[tuple[float, float]]]) -> str:
    kinds = ["english", "chinese", "paraphrase", "image", "face"]
    lines = ["| queries | n | words nDCG / R@10 | meaning (vector) nDCG / R@10 | hybrid nDCG / R@10 |",
             "|---|---|---|---|---|"]
    for kind in [*kinds, "all text", "all"]:
        cells = []
        for mode in ("words", "meaning", "hybrid"):
            if kind == "all text":
                rows = [x for k in kinds[:3] for x in scores.get((k, mode), [])]
            elif kind == "all":
                rows = [x for k in kinds for x in scores.get((k, mode if k in kinds[:3] or mode == "hybrid"
                                                                 else "vector" if mode == "meaning" else ""), [])]
            else:
                rows = scores.get((kind, "vector" if kind in ("image", "face") and mode == "meaning" else mode), [])
            cells.append(f"{sum(r[0] for r in rows) / len(rows):.3f} / {sum(r[1] for r in rows) / len(rows):.3f}"
                         if rows else "–")
        n = len(scores.get((kind, "hybrid"), [])) if kind not in ("all text", "all") else \
            sum(len(scores.get((k, "hybrid"), [])) for k in (kinds[:3] if kind == "all text" else kinds))
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stop_words_table(search: Any, half: dict[str, list[dict[str, Any]]], images: dict[str, bytes],
                     paths: dict[str, str]) -> str:
    """nDCG@10 / recall@10 of the text queries, words only and hybrid, without and with stop words."""
    from vidlens.search import text

    lines = ["**Stop words** (text queries; rrf_k and min_text_similarity as tuned):", "",
             "| half | n | stop words | words nDCG / R@10 | hybrid nDCG / R@10 |", "|---|---|---|---|---|"]
    shipped = text.STOP_WORDS
    for h in ("tune", "test"):
        queries = [q for q in half[h] if "image" not in q]
        for name, stop in (("kept (before)", frozenset()), ("left out (now)", shipped)):
            text.STOP_WORDS = stop
            try:
                scores = run(search, queries, images, paths)
            finally:
                text.STOP_WORDS = shipped
            cells = []
            for mode in ("words", "hybrid"):
                rows = [x for (_, m), xs in scores.items() if m == mode for x in xs]
                cells.append(f"{sum(r[0] for r in rows) / len(rows):.3f} / {sum(r[1] for r in rows) / len(rows):.3f}")
            lines.append(f"| {h} | {len(queries)} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave docs/benchmarks.md alone")
    args = ap.parse_args()
    media = media_dir()
    analyse(media)
    import sqlalchemy as sa

    from vidlens.platform import Platform
    from vidlens.search.service import Search
    from vidlens.search.settings import SearchSettings
    from vidlens.settings import load_settings
    from vidlens.store.schema import videos

    judged = json.loads(JUDGED.read_text())
    queries = judged["queries"]
    platform = Platform.from_settings(load_settings(data_dir=DATA))
    base: Search = platform.service("search")
    base.refresh()
    with platform.store.read() as conn:
        paths = {vid: str(Path(uri).resolve().relative_to(media.resolve()))
                 for vid, uri in conn.execute(sa.select(videos.c.id, videos.c.uri))}
    images = {q["id"]: query_image(media, q["image"]) for q in queries if "image" in q}
    half = {h: [q for q in queries if q["half"] == h] for h in ("tune", "test")}

    embedder = _Memo(base.embedder)

    def with_knobs(rrf_k: int, floor: float) -> Search:
        s = Search(base.store, base.blobs, DATA, base.settings.model_copy(
            update={"rrf_k": rrf_k, "min_text_similarity": floor}))
        s._embedder = embedder  # type: ignore[assignment]
        return s

    def hybrid_ndcg(scores: dict[tuple[str, str], list[tuple[float, float]]]) -> float:
        rows = [x for (k, m), xs in scores.items() if m == "hybrid" for x in xs]
        return sum(r[0] for r in rows) / len(rows)

    default = SearchSettings()
    grid = [(k, f) for k in (10, 30, 60) for f in (0.76, 0.78, 0.80)]
    tuned = {knobs: hybrid_ndcg(run(with_knobs(*knobs), half["tune"], images, paths)) for knobs in grid}
    best = max(grid, key=lambda kf: (round(tuned[kf], 4), kf == (default.rrf_k, default.min_text_similarity)))
    print(f"tune half, hybrid nDCG@10 by (rrf_k, min_text_similarity): {tuned}; chosen {best}", file=sys.stderr)
    blocks = [stop_words_table(with_knobs(*best), half, images, paths)]
    for name, knobs in (("defaults", (default.rrf_k, default.min_text_similarity)), ("tuned on the tune half", best)):
        for h in ("tune", "test"):
            blocks.append(f"**{h} half, {name}** (rrf_k {knobs[0]}, min_text_similarity {knobs[1]}):\n\n"
                          + table(run(with_knobs(*knobs), half[h], images, paths)))
    load = os.getloadavg()[0]
    body = f"""## Find: relevance on the judged query set (`bench/bench_search_relevance.py`)

{stamp()} Load average {load:.1f}.

{len(queries)} queries over the {len(paths)} analysed files of the shared corpus (bench/data/search_judged.json,
judged by hand from the ground-truth transcripts, on-screen text and frames: bench/data/search_judged.md).
A query's moments are turned into a list of videos (each at its best moment) and scored against graded
judgements (2 exact, 1 related). "words" is FTS5 only, "meaning" the e5 vectors only; for picture and face
queries that column is picture + face (keyframe and SFace vectors). Knobs chosen on the tune half only
(grid rrf_k 10/30/60 x min_text_similarity 0.76/0.78/0.80, best hybrid nDCG@10: rrf_k {best[0]},
min_text_similarity {best[1]}).

Words find nothing for the Chinese queries because the corpus has no Chinese speech or text (they are
all cross-lingual). The words ranker leaves stop words out of a query (English function words, Chinese
particles and pronouns: `vidlens.search.text.STOP_WORDS`, a general list not drawn from these queries);
the first table compares the text queries of each half with and without them, in the same run.

""" + "\n\n".join(blocks)
    print(body)
    if not args.no_write:
        write_section("search-relevance", body)


if __name__ == "__main__":
    main()
