"""helpers.sequences: human-written dates, their ISO form and field spans."""

import datetime as dt

import pytest

from helpers import sequences


@pytest.mark.parametrize(("template", "expected"), [
    ("{d} {Mmmm} {yyyy}", "3 March 2021"),
    ("{dd}/{mm}/{yy}", "03/03/21"),
    ("{Wwww}, {Mmmm} {do} {yyyy}", "Wednesday, March 3rd 2021"),
    ("{yyyy} {mmm} {d}", "2021 mar 3"),
    ("{dd} {MMM} {yyyy}", "03 MAR 2021"),
    ("{Www} {d} {Mmm} {yy}", "Wed 3 Mar 21"),
    ("the {do} of {Mmmm}, {yyyy}", "the 3rd of March, 2021"),
])
def test_format_date_writes_the_formats_people_use(template, expected):
    assert sequences.format_date(dt.date(2021, 3, 3), template)[0] == expected


@pytest.mark.parametrize(("day", "ordinal"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                              (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (31, "31st")])
def test_ordinals(day, ordinal):
    assert sequences.format_date(dt.date(2020, 1, day), "{do}")[0] == ordinal


def test_spans_point_at_the_fields_in_every_template():
    date = dt.date(1987, 11, 9)
    for template in sequences.DATE_FORMATS:
        text, spans = sequences.format_date(date, template)
        assert set(spans) == set(sequences.FIELDS), template
        pieces = {field: text[start:end] for field, (start, end) in spans.items()}
        assert pieces["year"] in ("1987", "87")
        assert pieces["month"] in ("11", "Nov", "nov", "NOV", "November")
        assert pieces["day"] in ("9", "09", "9th")


def test_two_digit_years_only_inside_1950_2049():
    assert sequences.format_date(dt.date(1950, 1, 1), "{yy}")[0] == "50"
    assert sequences.format_date(dt.date(2049, 1, 1), "{yy}")[0] == "49"
    with pytest.raises(ValueError, match="two-digit year"):
        sequences.format_date(dt.date(2050, 1, 1), "{dd}/{mm}/{yy}")
    with pytest.raises(ValueError, match="unknown date field"):
        sequences.format_date(dt.date(2000, 1, 1), "{q}")


def test_human_dates_are_seeded_distinct_and_their_iso_form_is_right():
    examples = sequences.human_dates(3000, seed=3)
    assert examples == sequences.human_dates(3000, seed=3)
    assert examples != sequences.human_dates(3000, seed=4)
    assert len({e.human for e in examples}) == 3000
    assert {e.template for e in examples} == set(sequences.DATE_FORMATS)
    for e in examples:
        date = dt.date.fromisoformat(e.iso)
        assert sequences.FIRST_DATE <= date <= sequences.LAST_DATE
        assert sequences.format_date(date, e.template) == (e.human, e.spans)
    # the weekday a template writes is the real one (2021-03-03 was a Wednesday)
    assert sequences.format_date(dt.date(2021, 3, 3), "{Www}")[0] == "Wed"


def test_human_dates_refuses_impossible_requests():
    with pytest.raises(ValueError, match="distinct strings"):
        sequences.human_dates(8, seed=0, templates=("{yyyy}",), first=dt.date(2000, 1, 1), last=dt.date(2000, 1, 7))
    with pytest.raises(ValueError, match="after"):
        sequences.human_dates(1, seed=0, first=dt.date(2001, 1, 1), last=dt.date(2000, 1, 1))


def test_date_characters_cover_every_generated_string():
    characters = set(sequences.date_characters())
    for e in sequences.human_dates(2000, seed=5):
        assert set(e.human) <= characters and set(e.iso) <= characters
    assert "-" in characters and "S" in characters and "y" in characters
