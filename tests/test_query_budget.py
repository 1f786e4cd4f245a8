"""The time budget's own rules: the real clock by default, the clock a budget is given,
and the child process killed at its deadline. (Served queries and fits over their budget
are tested in tests/reliability/test_limits.py and tests/test_fit_budget.py.)"""
from __future__ import annotations

import time

import pytest

from api.queries.budget import QueryTooLarge, budget_clock, budget_seconds, check, remaining, time_budget
from api.queries.isolated import run_isolated


def test_a_budget_reads_the_real_clock_by_default():
    with time_budget(60):
        check("unused")  # well within a minute
        assert 0 < remaining() <= 60 and budget_seconds() == 60
    with time_budget(0.05):
        time.sleep(0.1)  # past the budget by construction, on any machine
        with pytest.raises(QueryTooLarge) as exc:
            check("narrow it")
        assert str(exc.value) == "this query needs more than its 0.05 s budget: narrow it"
        assert remaining() == 0
    assert remaining() is None and budget_seconds() is None
    check("outside any budget nothing is checked")


def test_a_budget_keeps_the_clock_it_started_with():
    now = [1000.0]
    with budget_clock(lambda: now[0]):
        with time_budget(2):
            now[0] = 1001.5
            check("unused")
            assert remaining() == 0.5
            with budget_clock(lambda: 0.0):  # a clock given later is for budgets started later
                now[0] = 1002.5
                with pytest.raises(QueryTooLarge, match="more than its 2 s budget: ask for less"):
                    check("ask for less")
                with time_budget(1):  # an inner budget on the inner clock, then the outer one again
                    assert remaining() == 1
                assert remaining() == 0
    with time_budget(60):  # back on the real clock: the fake one stood at 1002.5
        check("unused")
        assert remaining() > 59


def test_a_child_over_its_budget_is_killed_at_the_deadline():
    t0 = time.monotonic()
    with pytest.raises(QueryTooLarge, match="more than its 0.2 s budget and was stopped: try less"):
        run_isolated(time.sleep, (60,), 0.2, "try less")  # over its budget by construction
    # not stuck: killed at its deadline, not when the child ends (a minute); room for a loaded machine
    assert time.monotonic() - t0 < 0.2 + 10


def test_a_childs_answer_and_errors_come_back():
    assert run_isolated(sorted, ([3, 1, 2],), 30, "unused") == [1, 2, 3]
    with pytest.raises(ValueError, match="invalid literal"):
        run_isolated(int, ("x",), 30, "unused")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_isolated(divmod, (1, 0), 30, "unused")
