"""How the web pages write dates, times, numbers and codes for people.

The store keeps UTC instants; people in the ICS read UK time, so every time shown is converted to
Europe/London and says which offset (GMT or BST) applies. Words follow the NHS.UK content style
("3 March 2025", "8am to 8pm").

>>> from datetime import datetime, timezone
>>> local_time(datetime(2025, 7, 1, 7, 0, tzinfo=timezone.utc))
'8am BST on Tuesday 1 July 2025'
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = [
    "LONDON",
    "count",
    "day_long",
    "day_short",
    "hours",
    "label",
    "local_time",
    "percent",
    "time_of_day",
]

#: The zone every time on the pages is shown in.
LONDON = ZoneInfo("Europe/London")

# Labels for contract codes. A code missing here is shown as itself, so a new code added to the
# contract never breaks a page; it just reads less nicely until it gets a label.
_LABELS: dict[str, str] = {
    # service types
    "ed_type1": "Emergency department (type 1)",
    "ed_type2": "Single-specialty emergency department (type 2)",
    "ed_type3": "Other A&E or minor injury unit (type 3)",
    "ed_type4": "Walk-in centre (type 4)",
    "utc": "Urgent treatment centre",
    "sdec": "Same day emergency care",
    "acute_frailty": "Acute frailty service",
    "ucr": "Urgent community response",
    "nhs111": "NHS 111",
    "ambulance": "Ambulance service",
    "community_beds": "Community beds",
    "care_home": "Care home",
    "home_care": "Home care",
    "g_and_a_beds": "General and acute beds",
    # site types
    "acute_hospital": "Acute hospital",
    "community_hospital": "Community hospital",
    "utc_site": "Urgent treatment centre",
    "ambulance_base": "Ambulance base",
    "call_centre": "Call centre",
    "community_hub": "Community hub",
    # bed types
    "g_and_a": "General and acute (core)",
    "g_and_a_escalation": "General and acute (escalation)",
    "critical_care": "Critical care",
    "community": "Community",
    # capacity units
    "call_handlers": "call handlers",
}


def label(code: str | None) -> str:
    """A readable label for a contract code.

    >>> label("ed_type1")
    'Emergency department (type 1)'
    >>> label("something_new")
    'something new'
    >>> label(None)
    ''
    """
    if code is None:
        return ""
    return _LABELS.get(code, code.replace("_", " "))


def count(n: int | float | None) -> str:
    """A count with thousands separators; an em dash for a missing value.

    >>> count(12345)
    '12,345'
    >>> count(None)
    '—'
    """
    if n is None:
        return "—"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def percent(p: float | None) -> str:
    """A percentage to one decimal place; an em dash when there is nothing to divide by.

    >>> percent(91.66)
    '91.7%'
    >>> percent(None)
    '—'
    """
    return "—" if p is None else f"{p:.1f}%"


def day_long(d: date) -> str:
    """A day as NHS.UK writes it.

    >>> day_long(date(2025, 3, 3))
    'Monday 3 March 2025'
    """
    return f"{d:%A} {d.day} {d:%B %Y}"


def day_short(d: date) -> str:
    """A day for a table column heading.

    >>> day_short(date(2025, 3, 3))
    'Mon 3 Mar'
    """
    return f"{d:%a} {d.day} {d:%b}"


def time_of_day(hhmm: str) -> str:
    """An ``HH:MM`` time in NHS.UK style (``8am``, ``8:30pm``, ``midday``, ``midnight``).

    >>> [time_of_day(t) for t in ["08:00", "20:30", "12:00", "00:00", "24:00"]]
    ['8am', '8:30pm', 'midday', 'midnight', 'midnight']
    >>> time_of_day("late")
    'late'
    """
    try:
        h, m = (int(x) for x in hhmm.strip().split(":"))
    except ValueError:
        return hhmm
    h %= 24
    if m == 0 and h == 0:
        return "midnight"
    if m == 0 and h == 12:
        return "midday"
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}{suffix}" if m == 0 else f"{h12}:{m:02d}{suffix}"


def hours(opens: str | None, closes: str | None) -> str:
    """Opening hours from the contract's ``opens``/``closes`` (empty means 24 hours).

    >>> hours("08:00", "20:00")
    '8am to 8pm'
    >>> hours(None, "")
    '24 hours'
    """
    if not opens and not closes:
        return "24 hours"
    return f"{time_of_day(opens or '00:00')} to {time_of_day(closes or '24:00')}"


def local_time(t: datetime) -> str:
    """An instant in UK time, stating the offset in force (GMT or BST).

    >>> from datetime import timezone
    >>> local_time(datetime(2025, 1, 6, 8, 30, tzinfo=timezone.utc))
    '8:30am GMT on Monday 6 January 2025'
    """
    local = t.astimezone(LONDON)
    return f"{time_of_day(f'{local:%H:%M}')} {local.tzname()} on {day_long(local.date())}"
