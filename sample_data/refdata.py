"""Project reference data read at run time (never from the shared folder outside the project): HCMC districts and wards,
provinces with their CCCD prefixes, ethnic groups, and the campaign file (subjects per
programme, cohort years)."""
from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "data_access" / "reference"
CAMPAIGN = ROOT / "campaigns" / "2021-2022-cv1254.toml"


def _rows(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=None)
def districts_hcmc() -> list[dict[str, str]]:
    return _rows("districts_hcmc_2022.csv")


@lru_cache(maxsize=None)
def wards_hcmc() -> list[dict[str, str]]:
    return _rows("wards_hcmc_2022.csv")


@lru_cache(maxsize=None)
def provinces() -> list[dict[str, str]]:
    return _rows("provinces.csv")


@lru_cache(maxsize=None)
def ethnic_groups() -> list[dict[str, str]]:
    return _rows("ethnic_groups.csv")


@lru_cache(maxsize=None)
def official_ethnic_names() -> tuple[str, ...]:
    return tuple(r["name"] for r in ethnic_groups() if r["code_qd121_1979"] <= "54")


@dataclass(frozen=True)
class Programme:
    id: str
    scored: tuple[str, ...]
    rated: tuple[str, ...]
    key_subjects: tuple[str, ...]


@lru_cache(maxsize=None)
def campaign() -> dict:
    with open(CAMPAIGN, "rb") as f:
        return tomllib.load(f)


@lru_cache(maxsize=None)
def programmes() -> dict[str, Programme]:
    return {p["id"]: Programme(p["id"], tuple(p["scored"]), tuple(p.get("rated", ())),
                               tuple(p.get("key_subjects", ())))
            for p in campaign()["programmes"]}


@lru_cache(maxsize=None)
def cohort_years() -> dict[int, str]:
    return {int(k): v for k, v in campaign()["cohort_years"].items()}
