"""The fuzz suite's settings and its figures. Every target counts the inputs it tried; the session
ends with a table (inputs, crashes, hangs, data lost). A crash, a hang (an input slower than the
deadline) or a loss fails its test, so a green run prints zeros in those columns.

FLOWRAG_FUZZ_EXAMPLES scales every target (default 1: the CI budget); the search is derandomised,
so CI runs the same inputs every time and a failure reproduces; FLOWRAG_FUZZ_RANDOM=1 explores
other inputs (with pytest's --hypothesis-seed=N to replay one run)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.stats import OUTCOMES, RANDOM, SCALE, TRIED

settings.register_profile(
    "flowrag-fuzz",
    deadline=timedelta(seconds=10),  # an input that takes longer is reported as a hang
    derandomize=not RANDOM,
    database=None,  # nothing written into the checkout
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    print_blob=True,
)
settings.load_profile("flowrag-fuzz")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or "tests/fuzz/" not in item.nodeid:
        return
    counts = OUTCOMES.setdefault(item.name.split("[")[0], Counter())
    if report.failed and call.excinfo is not None:
        from hypothesis.errors import DeadlineExceeded

        if call.excinfo.errisinstance(DeadlineExceeded) or "Timeout" in call.excinfo.typename:
            counts["hangs"] += 1
        elif "data lost" in str(call.excinfo.value):
            counts["lost"] += 1
        else:
            counts["crashes"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    write = terminalreporter.write_line
    columns = ("crashes", "hangs", "lost")
    write("")
    write(f"fuzz suite ({'random' if RANDOM else 'derandomised'}, scale {SCALE:g})")
    write(f"  {'target':<60}{'inputs':>8}" + "".join(f"{c:>9}" for c in columns))
    for target, count in sorted(TRIED.items()):
        found = OUTCOMES.get(target, Counter())
        write(f"  {target:<60}{count:>8}" + "".join(f"{found[c]:>9}" for c in columns))
    total = sum(OUTCOMES.values(), Counter())
    write(f"  {'total':<60}{sum(TRIED.values()):>8}" + "".join(f"{total[c]:>9}" for c in columns))
