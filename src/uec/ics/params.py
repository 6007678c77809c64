"""The demo's model-shape assumptions: profiles, mixes and distributions.

Published *levels* (attendances per head, response times, occupancy) come from ``calibration.yaml``.
What is here is the *shape* around them, set by hand to look like English urgent care, and tuned so
that the levels come out right; each number says what it is. Lists by age band follow
``AGE_BANDS``; hourly profiles are relative weights for local hours 00..23; weekday factors are
Monday..Sunday.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

AGE_BANDS = ("0-4", "5-17", "18-64", "65-74", "75-84", "85+")
SEXES = ("female", "male", "other", "unknown")
ETHNIC_GROUPS = ("white", "mixed", "asian", "black", "other", "not_stated")

# Share of residents in each age band (England, mid-2019, rounded).
POPULATION_AGE = (0.059, 0.155, 0.602, 0.098, 0.062, 0.024)
FEMALE_SHARE = 0.506
# Ethnic mix of residents by acute catchment (white, mixed, asian, black, other): the middle
# catchment is the city, the others market towns (England 2011 census overall: 85/2/8/3.5/1).
ETHNIC_BY_CATCHMENT = (
    (0.90, 0.02, 0.05, 0.02, 0.01),
    (0.75, 0.03, 0.14, 0.07, 0.01),
    (0.91, 0.02, 0.04, 0.02, 0.01),
)
# Relative chance of each IMD decile (1 = most deprived) by catchment: the city is poorer.
IMD_SLOPE_BY_CATCHMENT = (0.0, -0.6, 0.5)
# Records whose ethnicity or sex is not recorded, regardless of the person.
ETHNIC_NOT_STATED = 0.06
SEX_UNKNOWN = 0.003
SEX_OTHER = 0.001

# Age mix of each kind of event (the person sampler turns these into per-person weights).
AGE_MIX = {
    "ed": (0.07, 0.11, 0.56, 0.09, 0.095, 0.075),
    "ambulance": (0.02, 0.04, 0.47, 0.13, 0.18, 0.16),
    "nhs111": (0.12, 0.12, 0.55, 0.08, 0.07, 0.06),
    "utc": (0.10, 0.18, 0.60, 0.06, 0.04, 0.02),
    "sdec": (0.0, 0.02, 0.55, 0.16, 0.16, 0.11),
    "direct": (0.02, 0.03, 0.45, 0.15, 0.18, 0.17),
    "elective": (0.01, 0.03, 0.55, 0.20, 0.16, 0.05),
    "ucr": (0.002, 0.003, 0.14, 0.16, 0.30, 0.395),
}
# More deprived areas use urgent care more (about 1.8x from decile 1 to 10).
IMD_USE = {"default": (1.35, 0.75), "elective": (1.0, 1.0)}

HOURLY = {
    "ed": (2.3, 1.8, 1.4, 1.1, 1.0, 1.0, 1.4, 2.6, 4.6, 6.2, 6.8, 6.7,
           6.4, 6.1, 5.9, 5.8, 5.8, 5.9, 5.9, 5.6, 5.0, 4.3, 3.6, 2.9),
    "ambulance": (3.2, 2.9, 2.6, 2.3, 2.1, 2.1, 2.5, 3.3, 4.4, 5.1, 5.5, 5.6,
                  5.5, 5.3, 5.1, 5.0, 5.0, 5.1, 5.0, 4.8, 4.6, 4.3, 4.0, 3.6),
    "nhs111_weekday": (2.0, 1.4, 1.0, 0.8, 0.7, 0.8, 1.3, 2.8, 5.5, 6.2, 5.6, 5.0,
                       4.6, 4.4, 4.3, 4.4, 4.8, 5.8, 6.8, 7.0, 6.6, 5.6, 4.2, 3.0),
    "nhs111_weekend": (2.5, 1.8, 1.3, 1.0, 0.9, 1.0, 1.6, 3.0, 5.5, 6.8, 6.9, 6.5,
                       5.9, 5.4, 5.1, 5.0, 5.0, 5.2, 5.3, 5.1, 4.7, 4.1, 3.4, 2.8),
    # UTCs open 08:00-22:00 and SDEC 08:00-20:00: no arrivals outside those hours.
    "utc": (0, 0, 0, 0, 0, 0, 0, 0, 7.5, 8.5, 8.6, 8.2,
            7.6, 7.3, 7.2, 7.2, 7.3, 7.5, 7.8, 7.0, 5.5, 3.8, 0, 0),
    "sdec": (0, 0, 0, 0, 0, 0, 0, 0, 4.0, 8.0, 10.0, 11.0,
             11.0, 10.5, 10.0, 9.5, 8.5, 7.0, 5.5, 3.5, 0, 0, 0, 0),
    "direct": (0, 0, 0, 0, 0, 0, 0, 0, 0, 2.0, 5.0, 8.0,
               9.0, 9.0, 9.0, 9.0, 8.0, 7.0, 5.0, 3.0, 1.5, 0.5, 0, 0),
    "ucr": (0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 4.0, 8.0, 10.0, 10.0,
            9.5, 9.0, 9.0, 8.5, 7.5, 6.0, 4.5, 3.0, 0.8, 0.5, 0.4, 0.3),
}

WEEKDAY = {
    # Monday is the ED's busiest day; Saturday the quietest.
    "ed": (1.14, 1.02, 0.99, 0.98, 0.98, 0.93, 0.96),
    # 111 is busiest when GP surgeries are shut.
    "nhs111": (0.86, 0.76, 0.75, 0.75, 0.80, 1.55, 1.53),
    "utc": (1.08, 0.98, 0.96, 0.95, 0.97, 1.03, 1.03),
    "sdec": (1.12, 1.10, 1.08, 1.06, 1.04, 0.85, 0.75),
    "direct": (1.25, 1.2, 1.15, 1.15, 1.1, 0.6, 0.55),
    "ucr": (1.05, 1.05, 1.05, 1.05, 1.05, 0.88, 0.87),
}
ED_CHRISTMAS_DAY = 0.78  # the quietest ED day of the year
ED_AFTER_BANK_HOLIDAY = 1.08

# Day-to-day variation beyond Poisson: a shared AR(1) "system" shock (weather, infections) and
# independent noise per stream, both on the log scale.
SYSTEM_AR = 0.85
SYSTEM_SD = 0.015
STREAM_SD = 0.03

# NHS 111 final dispositions (IUC ADC 2019 proportions, rounded) and follow-through.
DISPOSITIONS = ("ed", "utc", "sdec", "gp", "pharmacy", "ambulance_999", "self_care", "other")
DISPOSITION_P = (0.09, 0.05, 0.005, 0.50, 0.05, 0.11, 0.12, 0.075)
BOOKED_P = {"ed": 0.40, "utc": 0.55, "sdec": 0.30, "gp": 0.60}
ATTEND_P = {"ed": 0.75, "utc": 0.80, "sdec": 0.80}

# Ambulance: categories among face-to-face incidents and who is conveyed, by category (C1-C4);
# conveyance shares are set so the all-category total matches AmbSYS 2019 (see calibration.yaml).
CATEGORY_CONVEYED = (0.681, 0.75, 0.54, 0.40)
CONVEYED_TO_ED = 0.9142  # A53 / (A53 + A54), 2019
OWN_CATCHMENT = 0.92  # conveyed to the patient's own acute site
BETA_RESPONSE = 3.0  # response times rise ~3% per point of bed occupancy above its 4-week norm

# ED acuity mix (1 = resuscitation .. 5 = non-urgent) by arrival route.
ACUITY_AMBULANCE = (0.04, 0.30, 0.50, 0.14, 0.02)
ACUITY_WALK_IN = (0.004, 0.10, 0.42, 0.40, 0.076)
ACUITY_UTC = (0.0, 0.0, 0.10, 0.60, 0.30)
ACUITY_SDEC = (0.0, 0.25, 0.65, 0.10, 0.0)
MENTAL_HEALTH_P = 0.045
ADMIT_BY_ACUITY = (0.85, 0.55, 0.30, 0.08, 0.03)
ADMIT_AGE = (0.35, 0.35, 0.80, 1.30, 1.60, 1.80)
ADMIT_AMBULANCE = 1.5
ADMIT_MENTAL_HEALTH = 0.6
UTC_ADMITTED = 0.0067  # type 3/4 admissions per attendance, FY2018/19
SDEC_ADMITTED = 0.20

# ED clock (minutes): lognormal medians and log-sd, scaled by crowding. ED_SCALE is the one knob
# tuned so that 4-hour performance over a year matches the FY2018/19 type 1 figure.
ED_SCALE = 1.0
TRIAGE = (12.0, 0.7)
SEEN_BY_ACUITY = (3.0, 20.0, 45.0, 48.0, 42.0)
SEEN_SD = 0.8
TREAT = (50.0, 0.7)
TO_DEPART = (10.0, 0.8)
TO_DTA = (100.0, 0.6)
DTA_TO_READY = (20.0, 0.8)
#: Clinically ready to leaving the ED, admitted (median minutes, lognormal sd). Calibrated (issue 15)
#: from sd 1.0, which gave 2.9 twelve-hour waits from decision to admit a day, above England's
#: pre-pandemic winters scaled to the ICS (``twelve_hour_dta_waits_per_day``).
TROLLEY = (60.0, 0.9)
MENTAL_HEALTH_SLOW = 1.8
LEFT_EARLY_P = 0.04
LEFT_EARLY_AFTER = (150.0, 0.5)
CROWDING_ALPHA = 0.5  # waits x exp(alpha x (census / places - 1))
BED_GAMMA = 16.0  # trolley waits x exp(gamma x (occupancy - 0.92))
ED_PLACES_PER_CUBICLE = 1.5  # cubicles plus chairs and corridor: how many patients an ED holds at "normal"

# Handover (minutes): fixed part + lognormal x crowding. Calibrated (issue 15) from 10 + (16, 0.9),
# which gave a winter mean of 21.6 minutes with 19% over 30 and 4.9% over 60, to 7.5 + (13, 0.9)
# for the winter sitrep's 13% and 2.9% (calibration.yaml, ``handover_winter_*``).
HANDOVER_FIXED = 7.5
HANDOVER = (13.0, 0.9)
HANDOVER_BY_ACUITY = (0.15, 0.6, 1.0, 1.0, 1.0)
HANDOVER_CROWDING = 2.0  # handover delay x crowding factor ** this

# Inpatient stay (days unless said). Share of emergency spells that are same-day by age band.
SAME_DAY = (0.50, 0.50, 0.28, 0.20, 0.14, 0.10)
CTR_MEDIAN_DAYS = (1.3, 1.3, 2.6, 3.6, 4.3, 4.9)
CTR_SD = 0.8
# Pathway 1-3 chances for stays past the same day, by age band.
PATHWAY_P = (
    (0.0, 0.0, 0.0),
    (0.0, 0.0, 0.0),
    (0.24, 0.035, 0.010),
    (0.52, 0.110, 0.045),
    (0.60, 0.190, 0.090),
    (0.56, 0.240, 0.150),
)
# Waits from criteria-to-reside end to discharge, by pathway 1-3: lognormal median days, log-sd.
PATHWAY_DELAY = ((1.0, 0.9), (3.0, 0.8), (4.5, 0.8))
DELAY_WINTER = 0.5  # pathway waits x (1 + this x (admissions' seasonal index - 1))
P0_NEXT_DAY = 0.25
WEEKEND_DEFER = (0.30, 0.60)  # chance a P0 / P1-3 discharge due at a weekend waits a day
DIED_P = (0.002, 0.002, 0.012, 0.035, 0.065, 0.10)
TRANSFER_P = 0.015
ELECTIVE_CTR = (1.6, 0.7)
ELECTIVE_PATHWAY = (0.85, 0.12, 0.03, 0.0)

# Urgent community response (minutes), and where referrals come from.
UCR_SOURCES = ("ambulance", "nhs111", "gp", "ed", "care_home", "self", "other")
UCR_SOURCE_P = (0.20, 0.10, 0.30, 0.05, 0.15, 0.10, 0.10)
UCR_VISIT = (50.0, 0.6)
UCR_NO_VISIT = 0.04


@cache
def _calibration_text() -> str:
    return resources.files(__package__).joinpath("calibration.yaml").read_text(encoding="utf-8")


@cache
def _calibration_parsed() -> dict[str, Any]:
    # The C loader is several times faster where PyYAML was built with libyaml.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(_calibration_text(), Loader=loader)  # a safe loader either way
    return data


def calibration() -> dict[str, Any]:
    """The parsed ``calibration.yaml`` (a fresh copy each call, so callers may change it).

    >>> calibration()["population"]["ics"]
    1200000
    """
    return copy.deepcopy(_calibration_parsed())
