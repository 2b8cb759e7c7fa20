"""Why binary quantisation loses Find's nearest text vectors: recall@10 of an exact re-rank of the exact
Hamming top C (the best any index over the sign bits can hand on), raw and centred on the corpus mean.

    python bench/bench_vector_signs.py [--rows 100000] [--hnsw]

Rows are made as ``bench_pg_volume.py --search-index`` makes them (three real phrases' multilingual-e5
vectors summed, plus noise): with noise drawn from 4096 shared vectors, with noise of each row's own, and
with a third of that noise. For each it prints the cosine of the exact 1st/10th/11th/20th/100th nearest
(how near-tied the 10 are) and the Hamming top-C recall; ``--hnsw`` adds an HNSW on the float vectors
(usearch, m 16, ef_construction 64) at ef 40/100/400. numpy only: no database.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import phrases

from vidlens.search.text import TextEmbedder

POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(1)


def hamming_recall(x: np.ndarray, qs: np.ndarray, sims: np.ndarray, truth: list[set[int]], centre: np.ndarray,
                   cs: tuple[int, ...]) -> list[float]:
    """recall@10 of the exact cosine re-rank of each query's exact Hamming top C, for each C."""
    bits, qbits = np.packbits((x - centre) > 0, axis=1), np.packbits((qs - centre) > 0, axis=1)
    ham = np.stack([POPCOUNT[np.bitwise_xor(bits, q)].sum(1) for q in qbits])
    out = []
    for c in cs:
        cand = np.argpartition(ham, c, axis=1)[:, :c]
        out.append(float(np.mean([len(set(cand[i][np.argsort(-sims[i, cand[i]])[:10]]) & truth[i]) / 10
                                  for i in range(len(qs))])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--hnsw", action="store_true", help="also an HNSW on the float vectors (usearch)")
    args = ap.parse_args()
    n, rng, embedder, bank = args.rows, np.random.default_rng(23), TextEmbedder.shared(), phrases()
    pv = embedder.passages(bank).astype(np.float32)
    shared_noise = rng.normal(0, 0.06, (4096, pv.shape[1])).astype(np.float32)
    qs = np.stack([embedder.query(f"{bank[a]} {bank[b]}")
                   for a, b in rng.integers(0, len(bank), size=(40, 2))]).astype(np.float32)
    print(f"bank phrases' mean pairwise cosine {(pv @ pv.T)[np.triu_indices(len(pv), 1)].mean():.3f}")
    signal = pv[rng.integers(0, len(bank), size=(n, 3))].sum(axis=1)
    kinds = {"noise from 4096 shared vectors": signal + shared_noise[rng.integers(0, 4096, n)],
             "noise of its own": signal + rng.normal(0, 0.06, signal.shape).astype(np.float32),
             "a third of that noise": signal + rng.normal(0, 0.02, signal.shape).astype(np.float32)}
    cs = (100, 400, 1000, 4000)
    for name, x in kinds.items():
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        x = x.astype(np.float16).astype(np.float32)  # as stored in halfvec
        sims = qs @ x.T
        order = np.argsort(-sims, axis=1)
        near = np.take_along_axis(sims, order[:, :100], axis=1).mean(axis=0)
        truth = [set(o[:10]) for o in order]
        print(f"\n{name}: cosine of the nearest 1/10/11/20/100: "
              + "/".join(f"{near[k]:.4f}" for k in (0, 9, 10, 19, 99)))
        for label, centre in (("raw", np.zeros(x.shape[1], np.float32)), ("centred", x.mean(axis=0))):
            rec = hamming_recall(x, qs, sims, truth, centre, cs)
            print(f"  {label} sign bits, Hamming top {'/'.join(map(str, cs))}: "
                  + "/".join(f"{r:.3f}" for r in rec))
        if args.hnsw:
            from usearch.index import Index

            t0 = time.process_time()
            index = Index(ndim=x.shape[1], metric="cos", connectivity=16, expansion_add=64, dtype="f32")
            index.add(np.arange(n), x, threads=1)
            built = time.process_time() - t0
            for ef in (40, 100, 400):
                index.expansion_search = ef
                keys = index.search(qs, 10).keys
                rec = np.mean([len(set(keys[i].tolist()) & truth[i]) / 10 for i in range(len(qs))])
                print(f"  HNSW on the floats (build {built:.0f} CPU-s), ef {ef}: recall@10 {rec:.3f}")


if __name__ == "__main__":
    main()
