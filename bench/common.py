"""Shared bits of the benchmarks: the inputs they build (a clean and a messy sheet), timing."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from tests.builders import big_workbook  # noqa: E402  (the same generator the tests use)


def workbook(rows: int = 100_000) -> Path:
    """A 100,000-row, 8-column XLSX, built once and kept in bench/out/."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"people-{rows}.xlsx"
    if not path.exists():
        path.write_bytes(big_workbook(rows))
    return path


# --- a sheet as it comes from a CRM ------------------------------------------------------------

# fmt: off
MESSY_HEADER = ["Kundenr", "Fornavn", "Etternavn", "E-post", "Mobil", "Kjønn", "Postnummer",
                "Registrert"]
_FIRST = ["Ola", "Kari", "Per", "Åse", "Nils", "Ingrid", "Øystein", "Solveig", "Håkon", "Eva",
          "Bjørn", "Marte", "Jens", "Sigrid", "Tor", "Liv", "Ærling", "Hanne", "Knut", "Randi"]
_LAST = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
         "Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen",
         "Hagen", "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Lie", "Sæther", "Bø"]
_DOMAINS = ["online.no", "gmail.com", "hotmail.com", "outlook.com", "yahoo.no", "live.no",
            "firma.no", "epost.no"]
# fmt: on


_MOBILE = ("40", "41", "45", "46", "47", "48", "90", "91", "92", "93", "94", "95", "97", "98")
_LANDLINE = ("21", "22", "23", "33", "35", "51", "55", "62", "73", "77")


def _messy_phone(rng: random.Random) -> str | int:
    """A mobile number as CRMs hold them: mostly numbers stored as numbers, about 4 in 10 of them
    not valid (wrong length, bad prefixes, foreign numbers with and without +)."""
    kind = rng.random()
    n6 = rng.randrange(1_000_000)
    n8 = rng.randrange(100_000_000)
    mobile = int(rng.choice(_MOBILE)) * 1_000_000 + n6
    if kind < 0.06:
        return ""
    if kind < 0.40 or kind >= 0.96:
        return mobile  # a Norwegian mobile number, stored as a number
    if kind < 0.47:
        return 4_700_000_000 + mobile  # with the country code but no +
    if kind < 0.50:
        return int(rng.choice(_LANDLINE)) * 1_000_000 + n6
    if kind < 0.55:
        d = str(mobile)
        return f"+47 {d[:3]} {d[3:5]} {d[5:]}"  # typed by hand
    if kind < 0.59:
        return rng.choice(
            (f"+46 70 {n6 // 1000:03d} {n6 // 10 % 100:02d} {n6 % 100:02d}",  # SE
             f"+44 7911 {n6:06d}",  # GB
             f"+45 {20 + n6 % 10} {n6:06d}",  # DK
             f"+49 151 {n8:08d}")  # DE
        )  # fmt: skip
    if kind < 0.60:
        return f"0047{mobile}"  # the international prefix, as text
    # From here on, numbers that are not valid: 36 % of the rows, 38 % of the numbers present.
    if kind < 0.67:
        return mobile // 10  # 7 digits: a digit lost
    if kind < 0.72:
        return mobile * 10 + n6 % 10  # 9 digits: a digit too many
    if kind < 0.76:
        return 10_000_000 + n8 % 10_000_000  # no Norwegian number starts with 1
    if kind < 0.83:
        return rng.choice(
            (46_700_000_000 + n8 % 10_000_000,  # SE mobile, + lost
             4_915_100_000_000 + n8,  # DE mobile, + lost
             447_911_000_000 + n6,  # GB mobile, + lost
             4_520_000_000 + n8 % 10_000_000)  # DK mobile, + lost
        )  # fmt: skip
    if kind < 0.87:
        return 470_000_000 + mobile // 10  # 47 and 7 digits
    if kind < 0.90:
        return rng.choice((f"+46 70 {n6 % 1000:03d}", f"+44 20 {n6 % 10000:04d}",
                           f"+47 {n6 % 100000:05d}", f"+1 {n8:08d}"))  # fmt: skip
    if kind < 0.91:
        return rng.choice(("ring etter kl 16", "n/a", "-", "+47", "45 86 03 21 / 22 33 44 55"))
    return 83_000_000 + n6  # 8 digits, but not a Norwegian mobile or landline


def _messy_email(rng: random.Random, first: str, last: str, i: int) -> str:
    kind = rng.random()
    local = f"{first}.{last}{i}".lower()
    plain = local.translate(str.maketrans("æøå", "eoa"))
    domain = rng.choice(_DOMAINS)
    if kind < 0.08:
        return ""
    if kind < 0.90:
        return f"{plain}@{domain}"
    if kind < 0.93:
        return f" {plain.title()}@{domain.upper()} "
    if kind < 0.94:
        return f"{local}@{domain}"  # Norwegian letters in the local part
    return rng.choice(
        (f"{plain}@", f"{plain}@@{domain}", f"{first} {last}@{domain}", f"{plain}@online",
         f"{plain}@{domain}.", f"{plain}.@{domain}", f"{plain}@gmail,com", "-")
    )  # fmt: skip


def messy_workbook(rows: int = 100_000) -> Path:
    """A 100,000-row, 8-column XLSX as CRMs export it: numbers stored as numbers (phones, customer
    IDs, postcodes), dates as dates, about 4 in 10 mobile numbers not valid, some invalid
    e-mails, repeated customer IDs and blank cells. Built once (seeded) and kept in bench/out/."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"people-messy-{rows}.xlsx"
    if path.exists():
        return path
    rng = random.Random(13)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Kunder")
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, MESSY_HEADER)
    start = dt.date(2019, 1, 1)
    for i in range(rows):
        r = i + 1
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        kind = rng.random()
        if kind < 0.01 and i > 0:
            sheet.write_number(r, 0, 100_000 + rng.randrange(i))  # a customer ID used before
        elif kind >= 0.02:
            sheet.write_number(r, 0, 100_000 + i)
        if rng.random() >= 0.01:
            sheet.write_string(r, 1, first if rng.random() < 0.95 else f" {first} ")
        sheet.write_string(r, 2, last)
        email = _messy_email(rng, first, last, i)
        if email:
            sheet.write_string(r, 3, email)
        phone = _messy_phone(rng)
        if isinstance(phone, int):
            sheet.write_number(r, 4, phone)
        elif phone:
            sheet.write_string(r, 4, phone)
        if rng.random() < 0.9:
            sheet.write_string(r, 5, rng.choice("MK"))
        sheet.write_number(r, 6, rng.randrange(1, 9992))  # a postcode, its leading 0 lost
        joined = start + dt.timedelta(days=rng.randrange(2500))
        sheet.write_datetime(r, 7, dt.datetime.combine(joined, dt.time()), date_format)
    book.close()
    return path


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """(best, median) seconds over `runs` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def timed(
    runs: int, action: Callable[[], object], setup: Callable[[], object] | None = None
) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over `runs` runs, each after an
    untimed `setup`. On a shared machine the CPU time moves less than the wall time when others
    are busy."""
    walls, cpus = [], []
    for _ in range(runs):
        if setup is not None:
            setup()
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return min(walls), min(cpus)


def table(rows: list[tuple[str, str, str, str]]) -> str:
    """A Markdown table of (figure, measured, goal, verdict) rows."""
    head = ("figure", "measured", "goal", "verdict")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *map(line, rows)])


def verdict(ratio: float, goal: float) -> str:
    return "ok" if ratio <= goal else "MISSED"
