"""Generated sequence tasks: calendar dates written the way people write them, and their ISO 8601 form.

Chapter 10 trains a character-level encoder-decoder to turn ``"Wednesday, March 3rd 2021"``,
``"03/03/21"`` or ``"2021 mar 3"`` into ``"2021-03-03"``. ``human_dates`` draws such pairs with a seed
and records, for every example, where the day, the month and the year sit in the human string, so a
notebook can check whether attention reads the right characters.

Conventions (one per format, so every input has exactly one right answer): numeric formats with a
two-digit year and ``/`` or ``.`` put the day first (``03/04/21`` is 3 April 2021); a two-digit year
``yy`` means 19yy for 50-99 and 20yy for 00-49, so dates are drawn between 1950 and 2049.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIELDS = ("year", "month", "day")

DATE_FORMATS = (
    "{d} {Mmmm} {yyyy}",                 # 3 March 2021
    "{dd}/{mm}/{yy}",                    # 03/03/21 (day first)
    "{Wwww}, {Mmmm} {do} {yyyy}",        # Wednesday, March 3rd 2021
    "{yyyy} {mmm} {d}",                  # 2021 mar 3
    "{Mmmm} {d}, {yyyy}",                # March 3, 2021
    "{d}.{m}.{yyyy}",                    # 3.3.2021 (day first)
    "{Mmm} {dd} {yyyy}",                 # Mar 03 2021
    "{dd} {MMM} {yyyy}",                 # 03 MAR 2021
    "{yyyy}/{mm}/{dd}",                  # 2021/03/03
    "{Www} {d} {Mmm} {yy}",              # Wed 3 Mar 21
    "the {do} of {Mmmm}, {yyyy}",        # the 3rd of March, 2021
)
"""The human formats, as templates: d/dd day, do ordinal day, m/mm month number, mmm/Mmm/MMM and Mmmm
month names, yy/yyyy year, Www/Wwww weekday; anything else is literal text."""

FIRST_DATE, LAST_DATE = dt.date(1950, 1, 1), dt.date(2049, 12, 31)
_TOKEN = re.compile(r"\{(\w+)\}")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _field_text(date: dt.date, token: str) -> tuple[str, str | None]:
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    table = {
        "d": (str(date.day), "day"), "dd": (f"{date.day:02d}", "day"), "do": (_ordinal(date.day), "day"),
        "m": (str(date.month), "month"), "mm": (f"{date.month:02d}", "month"),
        "mmm": (month[:3].lower(), "month"), "Mmm": (month[:3], "month"), "MMM": (month[:3].upper(), "month"),
        "Mmmm": (month, "month"),
        "yy": (f"{date.year % 100:02d}", "year"), "yyyy": (str(date.year), "year"),
        "Www": (weekday[:3], None), "Wwww": (weekday, None),
    }
    if token not in table:
        raise ValueError(f"unknown date field {{{token}}}; known: {', '.join(sorted(table))}")
    return table[token]


def format_date(date: dt.date, template: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """``date`` written with ``template`` (see ``DATE_FORMATS``), and the ``[start, end)`` character span
    of each field it shows (``{"day": (0, 1), ...}``; a weekday is not a field).

    >>> format_date(dt.date(2021, 3, 3), "{Wwww}, {Mmmm} {do} {yyyy}")
    ('Wednesday, March 3rd 2021', {'month': (11, 16), 'day': (17, 20), 'year': (21, 25)})
    """
    if "{yy}" in template and not FIRST_DATE.year <= date.year <= LAST_DATE.year:
        raise ValueError(f"{template!r} writes a two-digit year, which means 1950-2049 here; got {date.year}")
    text, spans, position = "", {}, 0
    for match in _TOKEN.finditer(template):
        text += template[position:match.start()]
        piece, field = _field_text(date, match.group(1))
        if field is not None:
            spans[field] = (len(text), len(text) + len(piece))
        text += piece
        position = match.end()
    return text + template[position:], spans


@dataclass(frozen=True)
class DateExample:
    """One generated pair: the human string, its ISO 8601 form, the template used, and field spans."""

    human: str
    iso: str
    template: str
    spans: dict[str, tuple[int, int]]


def human_dates(count: int, seed: int, *, templates: tuple[str, ...] = DATE_FORMATS,
                first: dt.date = FIRST_DATE, last: dt.date = LAST_DATE) -> list[DateExample]:
    """``count`` examples with distinct human strings: a uniform date in ``[first, last]`` and a uniform
    template, drawn with ``np.random.default_rng(seed)``. Slice the list into splits, and no human
    string is in two of them."""
    if first > last:
        raise ValueError(f"human_dates: first ({first}) is after last ({last})")
    days = (last - first).days + 1
    if count > days * len(templates):
        raise ValueError(f"human_dates: only {days * len(templates):,} distinct strings exist, asked for {count:,}")
    generator = np.random.default_rng(seed)
    seen: set[str] = set()
    examples: list[DateExample] = []
    while len(examples) < count:
        date = first + dt.timedelta(days=int(generator.integers(days)))
        template = templates[int(generator.integers(len(templates)))]
        human, spans = format_date(date, template)
        if human not in seen:
            seen.add(human)
            examples.append(DateExample(human, date.isoformat(), template, spans))
    return examples


def date_characters(templates: tuple[str, ...] = DATE_FORMATS) -> str:
    """Every character the templates can write (letters of all month and weekday names, digits,
    separators) and the ISO form's ``-``, sorted: a character vocabulary that covers any split."""
    characters = set("0123456789-")
    year_2001 = [dt.date(2001, 1, 1) + dt.timedelta(days=n) for n in range(365)]   # every month, weekday, ordinal
    for template in templates:
        for date in year_2001:
            characters |= set(format_date(date, template)[0])
    return "".join(sorted(characters))
