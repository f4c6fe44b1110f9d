"""Seed-controlled random streams: one independent numpy Generator(PCG64) per (seed, chunk,
purpose), so changing one part of the generator does not reshuffle the others. The chunk number
is the province's position in provinces.csv, so HCMC at the hcmc scale is the same data as HCMC
within the national scale."""
from __future__ import annotations

import zlib

import numpy as np

DEFAULT_SEED = 20220425


def rng(seed: int, chunk: int, purpose: str) -> np.random.Generator:
    ss = np.random.SeedSequence([int(seed), int(chunk), zlib.crc32(purpose.encode("utf-8"))])
    return np.random.Generator(np.random.PCG64(ss))
