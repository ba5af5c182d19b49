"""Scenario section of stage 2, behaviour (docs/model.md, section 2): base rates of the true events.

Use this module for how often people really do what the system watches for, before traits,
sanctions and responses scale those rates.
"""

from __future__ import annotations

from trustsim.scenario.schema.base import Section, param


class Behaviour(Section):
    """Base rates of the true events of a step; traits, sanctions and responses scale them."""

    missed_payment_rate: float = param(
        0.02, "events/person/week", "missed payments for a person of average reliability", ge=0, le=10
    )
    loan_default_rate: float = param(
        0.0005, "events/person/week", "loan defaults for a person of average reliability", ge=0, le=1
    )
    income_shock_rate: float = param(
        0.002, "events/person/week", "income shocks (job loss, illness) that raise missed payments", ge=0, le=1
    )
    income_shock_weeks: int = param(26, "weeks", "how long an income shock lasts", ge=1, le=520)
    income_shock_factor: float = param(
        0.5, "fraction", "share of income kept during a shock; finance events rise as 1 / income kept", gt=0, le=1
    )
    minor_violation_rate: float = param(
        0.02, "events/person/week", "minor offline violations (jaywalking, littering)", ge=0, le=10
    )
    judgment_default_rate: float = param(
        0.0002, "events/person/week", "court judgments left unfulfilled, average law-abidance", ge=0, le=1
    )
    crime_rate: float = param(
        0.0003, "events/person/week", "crimes committed, average law-abidance, before deterrence", ge=0, le=1
    )
    posts_per_week: float = param(
        5.0, "posts/person/week", "online posts of a person of average online activity", ge=0, le=1000
    )
    approved_purchases_per_week: float = param(
        2.0, "purchases/person/week", "purchases of approved goods", ge=0, le=1000
    )
    alcohol_purchases_per_week: float = param(
        0.5, "purchases/drinker/week", "alcohol purchases of a regular drinker", ge=0, le=100
    )
    gaming_hours_per_week: float = param(
        20.0, "hours/gamer/week", "video-game hours of a heavy gamer", ge=0, le=168
    )
    volunteering_rate: float = param(0.02, "events/person/week", "volunteering acts", ge=0, le=10)
    blood_donation_rate: float = param(0.001, "events/person/week", "blood donations", ge=0, le=1)
    flight_attempts_per_week: float = param(
        0.01, "attempts/person/week", "attempts to buy a flight ticket", ge=0, le=10
    )
    rail_attempts_per_week: float = param(
        0.05, "attempts/person/week", "attempts to buy a high-speed-rail ticket", ge=0, le=10
    )
    banned_attempt_factor: float = param(
        0.5, "fraction", "ticket attempts a banned person still makes, relative to the unbanned", ge=0, le=1
    )
    firm_violation_rate: float = param(
        0.02, "events/firm/week", "corrupt acts of a firm at corruption propensity 1", ge=0, le=10
    )
