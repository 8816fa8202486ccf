"""Known deviations: tests expected to fail, each with its reason, made strict xfails by the plugin's session.

They come from the implementation that has them (its ``known_deviations``, :class:`~.interface.Known`), so
that its matrix gives the same outcomes wherever it runs; ``--gatespec-known-deviations FILE`` adds more,
for an implementation whose code a user cannot change, in lines::

    TEST-ID-PREFIX | reason
    TEST-ID-PREFIX | reason | within FACTOR

A bounded deviation (``within``) stays an expected failure only while the worst failing comparison's
error is at most FACTOR × its tolerance; beyond that, or where the failure is no comparison at all, the
test fails with a message that gives both (:func:`judge`).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatespec.conformance.plugin import registry
from gatespec.conformance.spec import deviation_sets
from gatespec.conformance.spec.interface import Known

# The characters of a test id (and ``*``): what a known-deviation entry may contain.
_PREFIX = r"[\w\[\]\-.:/*]+"


# eq=False: each entry is its own (by identity), so that one repeated in two files is matched, or not, on its own.
@dataclass(frozen=True, eq=False)
class Deviation:
    """A ``prefix`` of test ids, in which ``*`` stands for any run of characters (nothing else is special)."""

    prefix: str
    reason: str
    where: str  # FILE:LINE, or NAME.known_deviations
    within: float | None = None  # the factor of the tolerance the deviation stays within; None: unbounded
    measured: str = ""
    strict: bool = True  # False: the test may pass (bounded deviations only)

    def describe(self) -> str:
        if self.within is None:
            return f"known deviation: {self.reason}"
        measured = f"; {self.measured}" if self.measured else ""
        may = "" if self.strict else "; it may pass"
        return f"known deviation: {self.reason} (within {self.within:g} × the tolerance{measured}{may})"

    def matches(self, test_id: str) -> bool:
        if "*" not in self.prefix:
            return test_id.startswith(self.prefix)
        return _pattern(self.prefix).match(test_id) is not None

    @property
    def function(self) -> str | None:
        """The one test function whose ids the entry can match, or None where it may match several (a ``*`` before
        ``[``, or no ``[``: then the prefix may end inside a function's name)."""
        name, bracket, _ = self.prefix.partition("[")
        return name if bracket and "*" not in name else None

    def names_one_of(self, implementations: list[str]) -> bool:
        """Whether the entry's parameters start with one of these names (or with a pattern, which may match any)."""
        _, bracket, param = self.prefix.partition("[")
        if not bracket or param.startswith("*"):
            return True
        return any(param.startswith(name) or name.startswith(param) for name in implementations)

    def names_a_function_of(self, functions: set[str]) -> bool:
        """Whether the test function the entry names (the part before ``[``; a pattern there may name any) is
        among ``functions``."""
        name, bracket, _ = self.prefix.partition("[")
        if "*" in name:
            return bool(functions)
        return name in functions if bracket else any(f.startswith(name) for f in functions)


def load(paths: list[str], entries: list[registry.Entry]) -> list[Deviation]:
    """The entries of every ``--gatespec-known-deviations`` file, then those the available implementations declare."""
    declared = [dev for entry in entries if entry.available for dev in declared_deviations(entry.impl)]
    return [dev for path in paths for dev in read_deviations(Path(path))] + declared


@functools.cache
def _pattern(prefix: str) -> re.Pattern:
    return re.compile(".*".join(map(re.escape, prefix.split("*"))))


class Matcher:
    """The first of ``deviations`` (in their order) that matches a test id, each test id tried against only the
    entries that can match its function.  Every matrix item is matched in every process (each xdist worker, each
    sub-run): trying all ~230 entries on each of ~19,000 items took ~7 s of its collection."""

    def __init__(self, deviations: list[Deviation]) -> None:
        self.deviations = deviations
        self._candidates: dict[str, list[Deviation]] = {}  # per test function, in the entries' order

    def first(self, nodeid: str) -> Deviation | None:
        """The first entry that matches the test id of ``nodeid`` (without its module), or None."""
        test_id = nodeid.split("::", 1)[-1]
        function = test_id.partition("[")[0]
        candidates = self._candidates.get(function)
        if candidates is None:
            candidates = [dev for dev in self.deviations if dev.function in (None, function)]
            self._candidates[function] = candidates
        return next((dev for dev in candidates if dev.matches(test_id)), None)


def read_deviations(path: Path) -> list[Deviation]:
    """Parse ``TEST-ID-PREFIX | reason`` lines; ``#`` starts a comment.  A malformed line is a usage error."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise pytest.UsageError(f"--gatespec-known-deviations {path}: {exc.strerror}") from None
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prefix, sep, rest = (part.strip() for part in line.partition("|"))
        reason, _, bound = (part.strip() for part in rest.rpartition("|")) if "|" in rest else (rest, "", "")
        within = _within(bound)
        if not sep or not prefix or not reason or not re.fullmatch(_PREFIX, prefix) or within is False:
            raise pytest.UsageError(
                f"--gatespec-known-deviations {path}:{number}: expected 'TEST-ID-PREFIX | reason' or "
                f"'TEST-ID-PREFIX | reason | within FACTOR' (FACTOR ≥ 1), got {raw!r}"
            )
        found.append(Deviation(prefix, reason, f"{path}:{number}", within=within))
    return found


def _within(text: str) -> float | bool | None:
    """``within FACTOR`` as the factor, None for no bound, False for anything else."""
    if not text:
        return None
    word, _, number = text.partition(" ")
    try:
        factor = float(number)
    except ValueError:
        return False
    return factor if word == "within" and math.isfinite(factor) and factor >= 1 else False


def declared_deviations(impl) -> list[Deviation]:
    """An implementation's own ``known_deviations``, ``{"TEST[REST": Known or reason}``, as entries naming it:
    TEST[NAME-REST."""
    found = []
    sets = getattr(impl, "known_deviation_sets", ())
    unknown = [name for name in sets if name not in deviation_sets.SETS]
    if unknown:
        raise pytest.UsageError(
            f"{impl.name}.known_deviation_sets: no set named {', '.join(map(repr, unknown))}; "
            f"sets: {', '.join(deviation_sets.SETS)}"
        )
    named = {key: value for name in sets for key, value in deviation_sets.SETS[name].items()}
    for key, value in {**named, **getattr(impl, "known_deviations", {})}.items():
        test, bracket, rest = str(key).partition("[")
        prefix = f"{test}[{impl.name}-{rest}"
        known = value if isinstance(value, Known) else None
        reason = str(known.reason if known else value).strip()
        if not bracket or not test or not reason or not re.fullmatch(_PREFIX, prefix):
            raise pytest.UsageError(
                f"{impl.name}.known_deviations: expected {{'TEST[REST-OF-ID': Known(reason, within=...) or 'reason'}}, "
                f"got {key!r}: {value!r}"
            )
        where = f"{impl.name}.known_deviations"
        if known is None:
            found.append(Deviation(prefix, reason, where))
        else:
            found.append(Deviation(prefix, reason, where, known.within, known.measured, known.strict))
    return found


class WithinKnownDeviation(AssertionError):
    """A failure within its bounded deviation's factor: what that deviation's strict xfail expects."""


def judge(dev: Deviation, records: list[dict], exc: AssertionError) -> AssertionError:
    """What a failure of a test under the bounded deviation ``dev`` is: the deviation, or a failure of its own.

    ``records``: the test's comparisons (:func:`.checks.recording`); the failing ones' worst error over
    tolerance is held to ``dev.within``.  A failure with no failing comparison (a shape, a dtype, a raised
    error) is no size the bound speaks of, so it fails too.
    """
    ratios = [r["ratio"] for r in records if not r["passed"]]
    worst = max(ratios, default=None)
    if worst is not None and worst <= dev.within:
        return WithinKnownDeviation(
            f"{dev.describe()}: worst error {worst:.3g} × the tolerance, within its bound\n{exc}"
        )
    if worst is None:
        what = "this failure is no comparison (shape, dtype or an error), so it is not that deviation"
    else:
        what = f"the worst error is {worst:.4g} × the tolerance, beyond that bound"
    return AssertionError(f"{dev.where}: {dev.prefix} is a {dev.describe()}; {what}:\n{exc}")


def unmatched(
    deviations: list[Deviation], matched: set[Deviation], selected: list[str], functions: set[str]
) -> list[Deviation]:
    """The entries that matched no collected test, among those that name a selected implementation and a test
    function this run collected.

    An entry for an implementation this run did not select (tox -e numpy reads the whole file), or for a
    check it did not collect (a run of tests/ or of the benchmarks, a -k subset), is no news.
    """
    candidates = [dev for dev in deviations if dev not in matched and dev.names_one_of(selected)]
    # Silent only for a check of the suite this run did not collect; a name the suite lacks (a typo, a
    # renamed check) is reported whatever was collected.
    skipped = suite_functions() - functions if candidates else set()
    return [dev for dev in candidates if dev.names_a_function_of(functions) or not dev.names_a_function_of(skipped)]


def unmatched_line(dev: Deviation) -> str:
    """The end-of-run line for an entry that matched no collected test."""
    return f"gatespec: known deviation {dev.where} matches no collected test: {dev.prefix}"


def suite_functions() -> set[str]:
    """The names of every test function of the conformance suite and its benchmarks (the check registry's)."""
    from gatespec.conformance.spec.checks import (
        suite_tests,  # the registry builds the cases: only where an entry matched nothing
    )

    return suite_tests()
