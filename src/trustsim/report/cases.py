"""Case files in words: a traced person's timeline, one-line summary and short story, from trace rows.

Use `CaseFile(person_row, events, threshold)` where person_row is the person's row of the
``traced_people`` table and events their rows of ``trace`` (trace.py documents both).
``timeline()`` gives one plain sentence per step in which something happened to them;
``summary()`` one line for ``trustsim case DIR --list``; ``story()`` the short paragraph of the
report's "Case files" section. Every date, count and score comes from the trace rows; the words for
each event kind are the only fixed text. Routine observed events (purchases, gaming hours) and
steps where nothing else happened are left out of the timeline; the trace table keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trustsim.trace import CODE

THING = {
    "missed_payment": ("missed payment", "missed payments"),
    "loan_default": ("loan default", "loan defaults"),
    "minor_violation": ("minor violation", "minor violations"),
    "judgment_default": ("unpaid court judgment", "unpaid court judgments"),
    "crime": ("crime", "crimes"),
    "critical_post": ("critical post online", "critical posts online"),
    "volunteering": ("day of volunteering", "days of volunteering"),
    "blood_donation": ("blood donation", "blood donations"),
    "alcohol_purchase": ("alcohol purchase", "alcohol purchases"),
    "gaming_hours": ("hour of gaming", "hours of gaming"),
    "approved_purchase": ("approved purchase", "approved purchases"),
}
ROUTINE = {"alcohol_purchase", "gaming_hours", "approved_purchase"}
# (what being put under a measure is, after "she"; what it is called when it lifts)
MEASURE_TEXT = {
    "internet_throttle": ("had {their} internet slowed", "internet slowdown"),
    "flight_ban": ("was banned from flying", "flight ban"),
    "rail_ban": ("was banned from trains", "train ban"),
    "job_ban": ("was barred from civil-service and senior jobs", "job bar"),
    "id_block": ("had {their} ID number blocked", "ID block"),
}
LIST_TEXT = {"court_list": "the court's list of dishonest debtors", "blacklist": "the public blacklist"}
REWARD_TEXT = {"easy_loans": "easier loans", "visa_facilitation": "faster visas", "deposit_waiver": "deposit waivers"}
BECAUSE = {
    "true": "for what {they} did",
    "false_match": "because of a false face match",
    "linkage_error": "because of a record filed under the wrong name",
    "association": "because of the people around {them}",
}
# What a score before contacts still holds: (one, several) of each error cause not yet struck by an appeal.
ERROR_TEXT = {"false_match": ("the false match", "the false matches"),
              "linkage_error": ("the misfiled record", "the misfiled records")}
LAYER_TEXT = {"family": ("relative", "relatives"), "work": ("colleague", "colleagues"), "friends": ("friend", "friends")}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _count(n: float, forms: tuple[str, str]) -> str:
    n = int(n)
    return f"a {forms[0]}" if n == 1 else f"{n} {forms[1]}"


def _some(n: float, forms: tuple[str, str]) -> str:
    """'minor violation', '2 minor violations'."""
    return forms[0] if int(n) == 1 else f"{int(n)} {forms[1]}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" or word.startswith(("8", "11", "18")) else "a ") + word


# Events that make a step worth telling in a short story (the timeline tells every eventful step).
KEY_EVENTS = ("list_entry", "list_exit", "measure_applied", "measure_lifted", "measure_recaused", "appeal",
              "ticket_denied", "tie_dropped")
SERIOUS = {"crime", "judgment_default", "loan_default"}
JUMP = 20  # a score change of this many points in one step is told even when nothing else happened


def long_date(date) -> str:
    d = pd.Timestamp(date)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


@dataclass(eq=False)
class CaseFile:
    person: pd.Series  # the person's row of traced_people
    events: pd.DataFrame  # their rows of trace
    threshold: float  # the association threshold of the run, for "contacts under ..."

    def __post_init__(self) -> None:
        order = self.events["event"].map(CODE)
        self.events = self.events.assign(_order=order).sort_values(["step", "_order"], kind="stable")
        female = bool(self.person["female"])
        self.words = {"they": "she" if female else "he", "them": "her" if female else "him",
                      "their": "her" if female else "his", "theirs": "hers" if female else "his"}

    @property
    def id(self) -> int:
        return int(self.person["person"])

    def _say(self, text: str) -> str:
        return text.format(**self.words)

    def who(self) -> str:
        """A 34-year-old farmer in rural Henan, of a minority, in the most dissenting tenth."""
        p = self.person
        where = f"{'urban' if p['urban'] else 'rural'} {p['region']}"
        words = [_article(f"{int(p['age'])}-year-old {'woman' if p['female'] else 'man'}") + ", "
                 f"{str(p['occupation']).replace('_', ' ')}, in {where}"]
        if p["minority"]:
            words.append("of a minority")
        words.append(f"dissent decile {int(p['dissent_decile'])} of 10")
        return ", ".join(words)

    def _scores(self) -> pd.DataFrame:
        rows = self.events[self.events["event"].isin(["score.published", "score.individual"])]
        return rows.pivot_table(index="step", columns="event", values="value", aggfunc="last")

    def _clauses(self, step_rows: pd.DataFrame, score_before: float | None, low_before: float,
                 errors_on_file: dict[str, int]) -> tuple[list[str], bool]:
        """What happened in one step, as clauses (empty when only routine things did), and whether
        it is a key step: the system or the person's circle acted, or an error or a serious act was seen.
        errors_on_file: the errors, by cause, that this step's record holds (observed since the last
        granted appeal, this step's included)."""
        say = self._say
        clauses: list = []
        seen: list[str] = []
        # What is told together (what one cause imposed, what lifted, ties cut) goes where its first part was.
        groups: dict[tuple, list[str]] = {}

        def group(name: tuple, text: str) -> None:
            if name not in groups:
                groups[name] = []
                clauses.append(name)
            groups[name].append(say(text))

        key = False
        for row in step_rows.itertuples():
            head, _, part = row.event.partition(".")
            cause = row.cause
            key |= head in KEY_EVENTS
            if head == "observed":
                if part in ROUTINE and cause == "true":
                    continue
                thing = _some(row.value, THING[part])
                if cause == "false_match":
                    key = True
                    clauses.append(say("a camera matched {them} to someone else's ") + thing + " (false match)")
                elif cause == "linkage_error":
                    key = True
                    clauses.append("someone else's " + thing + say(" was filed under {their} name (linkage error)"))
                else:
                    key |= part in SERIOUS
                    seen.append(thing)
            elif head == "list_entry":
                group(("imposed", cause), "was put on " + LIST_TEXT[part])
            elif head == "list_exit":
                clauses.append(say("{they} came off ") + LIST_TEXT[part])
            elif head == "measure_applied" and part in MEASURE_TEXT:
                group(("imposed", cause), MEASURE_TEXT[part][0])
            elif head == "measure_recaused" and part in MEASURE_TEXT:
                clauses.append(say("{their} " + MEASURE_TEXT[part][1] + " now rested on ") +
                               say(BECAUSE[cause]).removeprefix("because of ").removeprefix("for "))
            elif head == "measure_lifted" and part in MEASURE_TEXT:
                group(("lifted",), MEASURE_TEXT[part][1])
            elif row.event == "appeal.granted":
                clauses.append(say("{they} appealed and won: the entries owed to errors were struck"))
            elif row.event == "appeal.refused":
                clauses.append(say("{they} appealed and lost"))
            elif head == "ticket_denied":
                clauses.append(say("{they} was refused ") + _count(row.value, (f"{part} ticket", f"{part} tickets")))
            elif head == "reward_gained":
                clauses.append(say("{they} gained ") + REWARD_TEXT[part])
            elif head == "reward_lost":
                clauses.append(say("{they} lost ") + REWARD_TEXT[part])
            elif head == "joined":
                clauses.append(say("{they} joined the scheme"))
            elif head == "tie_dropped":
                group(("ties", cause == "by_them"), part)
        for at, name in enumerate(clauses):
            if not isinstance(name, tuple):
                continue
            parts = groups[name]
            if name[0] == "imposed":
                # "was put on ..., banned from flying and barred from ...": one "was" for a run of them
                parts = [p.removeprefix("was ") if k and p.startswith("was ") and parts[k - 1].startswith("was ")
                         else p for k, p in enumerate(parts)]
                clauses[at] = say("{they} ") + _and(parts) + " " + say(BECAUSE[name[1]])
            elif name[0] == "lifted":
                clauses[at] = say("{their} ") + _and(parts) + (" was" if len(parts) == 1 else " were") + " lifted"
            else:
                counted = [_count(parts.count(layer), LAYER_TEXT[layer]) for layer in dict.fromkeys(parts)]
                clauses[at] = (say("{they} cut ties with ") + _and(counted) if name[1]
                               else _and(counted) + " cut ties with " + say("{them}"))
        if seen:
            clauses.insert(0, say("the system recorded {their} ") + _and(seen))
        score = step_rows.loc[step_rows["event"] == "score.published", "value"]
        individual = step_rows.loc[step_rows["event"] == "score.individual", "value"]
        change = abs(score.iloc[-1] - score_before) if len(score) and score_before is not None else 0.0
        if not clauses and change < JUMP:
            return clauses, False
        key |= change >= JUMP
        if change >= 1:
            verb = "fell" if score.iloc[-1] < score_before else "rose"
            text = say("{their} score ") + f"{verb} to {score.iloc[-1]:.0f}"
            if len(individual) and abs(individual.iloc[-1] - score.iloc[-1]) >= 5:
                # score.individual: the score of the record as filed (errors and all), before the
                # contacts' term (stages/scoring.py); named so, lest "own record" read as own deeds.
                errors = [ERROR_TEXT[c][n > 1] for c, n in errors_on_file.items() if n]
                included = f", {_and(errors)} included," if errors else ""
                text += (say(" (everything filed under {their} name") + included +
                         f" gave {individual.iloc[-1]:.0f} before " + say("{their} contacts counted"))
                if low_before:
                    text += (f"; {_count(low_before, ('contact', 'contacts'))} of " + say("{theirs}") +
                             f" scored under {self.threshold:.0f}")
                text += ")"
            clauses.append(text)
        return clauses, key

    def steps(self) -> list[tuple[str, str, bool]]:
        """(date, what happened, key step?) for each eventful step."""
        lines = []
        score_before = None
        low_before = 0.0
        errors_on_file = dict.fromkeys(ERROR_TEXT, 0)
        for _, rows in self.events.groupby("step", sort=True):
            observed = rows[rows["event"].str.startswith("observed.")]
            for cause in errors_on_file:
                errors_on_file[cause] += int(observed.loc[observed["cause"] == cause, "value"].sum())
            clauses, key = self._clauses(rows, score_before, low_before, errors_on_file)
            if clauses:
                lines.append((str(pd.Timestamp(rows["date"].iloc[0]).date()), "; ".join(clauses) + ".", key))
            score = rows.loc[rows["event"] == "score.published", "value"]
            if len(score):
                score_before = float(score.iloc[-1])
            low = rows.loc[rows["event"] == "contacts.low", "value"]
            low_before = float(low.iloc[-1]) if len(low) else 0.0
            if (rows["event"] == "appeal.granted").any():  # struck after this step's score
                errors_on_file = dict.fromkeys(ERROR_TEXT, 0)
        return lines

    def timeline(self) -> list[str]:
        """'2020-03-11: a camera matched her to ...; her score fell to 441', one per eventful step."""
        return [f"{date}: {text}" for date, text, _ in self.steps()]

    def _n(self, prefix: str, cause: str | None = None) -> int:
        rows = self.events[self.events["event"].str.startswith(prefix)]
        if cause is not None:
            rows = rows[rows["cause"] == cause]
        return int(rows["value"].sum()) if prefix.startswith(("observed", "ticket")) else len(rows)

    def _score_range(self) -> tuple[float, float, float]:
        score = self.events.loc[self.events["event"] == "score.published", "value"]
        return (float(score.iloc[0]), float(score.min()), float(score.iloc[-1])) if len(score) else (float("nan"),) * 3

    def summary(self) -> str:
        """One line: who, why chosen, and what the system did to them."""
        first, low, last = self._score_range()
        parts = [f"{n} {forms[n != 1]}" for n, forms in (
            (self._n("observed", "false_match"), ("false match", "false matches")),
            (self._n("observed", "linkage_error"), ("misfiled event", "misfiled events")),
            (self._n("list_entry"), ("list entry", "list entries")),
            (self._n("measure_applied"), ("measure", "measures")),
            (self._n("appeal"), ("appeal", "appeals")),
            (self._n("ticket_denied"), ("ticket refused", "tickets refused")),
            (self._n("tie_dropped"), ("tie dropped", "ties dropped")),
        ) if n]
        return (f"person {self.id} ({self.person['chosen_for']}): {self.who()}; score {first:.0f} -> {last:.0f} "
                f"(lowest {low:.0f})" + ("; " + ", ".join(parts) if parts else "; no error, sanction or dropped tie"))

    def story(self, most: int = 5) -> str:
        """A short paragraph: who they are, their first key steps, and where they ended."""
        say = self._say
        steps = self.steps()
        key = [(date, text) for date, text, is_key in steps if is_key] or [(d, t) for d, t, _ in steps]
        sentences = [f"Person {self.id} is {self.who()}."]
        for date, text in key[:most]:
            sentences.append(f"On {long_date(date)}, {text}")
        if len(key) > most:
            more = len(key) - most
            sentences.append(f"{more} more such week{'s' if more > 1 else ''} followed.")
        first, low, last = self._score_range()
        end = [say("{their} score went from ") + f"{first:.0f} to {last:.0f}, its lowest {low:.0f}"]
        expressed = self.events.loc[self.events["event"] == "dissent.expressed", "value"]
        latent = self.events.loc[self.events["event"] == "dissent.latent", "value"]
        if len(expressed) and len(latent) and latent.iloc[0] > 0:
            end.append(say("{they} voiced ") + f"{100 * expressed.iloc[-1] / latent.iloc[0]:.0f}% of the dissent "
                       + say("{they} held"))
        sentences.append("By the end of the run, " + "; ".join(end) + ".")
        return " ".join(sentences)


def cases(trace: pd.DataFrame, people: pd.DataFrame, threshold: float) -> dict[int, CaseFile]:
    """Every traced person's case file, by person id."""
    by_person = dict(tuple(trace.groupby("person", sort=True)))
    empty = trace.iloc[0:0]
    return {int(row.person): CaseFile(pd.Series(row._asdict()), by_person.get(int(row.person), empty), threshold)
            for row in people.itertuples(index=False)}


def chosen_cases(all_cases: dict[int, CaseFile], most: int = 6) -> list[CaseFile]:
    """Stories for the report: one person per wrongful cause, a dissident and a rewarded person (the
    first of each who had something happen to them), then others with the most eventful files."""
    picked: list[CaseFile] = []
    for reason in ("false_match", "linkage_error", "association", "dissident", "rewarded", "blacklist"):
        for case in all_cases.values():
            if case.person["chosen_for"] == reason and case.steps() and case not in picked:
                picked.append(case)
                break
    return picked[:most]

