"""The runner: checks run concurrently, each with its own timeout; failures become findings."""

from __future__ import annotations

import threading
import time

import pytest

from bot.checks import Check
from bot.deps import Deps
from bot.findings import Finding, Report, Severity
from bot.runner import run_checks
from bot.settings import Settings
from bot.store import Store


@pytest.fixture
def offline_deps(tmp_path) -> Deps:
    s = Settings.from_env({"AWS_REGION": "us-east-1", "SESBOT_REGIONS": "us-east-1,eu-west-1"})
    s.check_timeout = 0.5
    return Deps.build(s, store=Store(str(tmp_path / "s.db")))


def slow(seconds: float, severity: Severity = Severity.OK):
    def fn(ctx):
        time.sleep(seconds)
        return Finding("t.slow", severity, f"slept {seconds}")

    return fn


def broken(ctx):
    raise RuntimeError("the peer said no")


def test_checks_run_at_the_same_time_not_one_after_another(offline_deps):
    checks = [Check(f"t.{i}", slow(0.2)) for i in range(5)]
    start = time.perf_counter()
    report, timings = run_checks(offline_deps, "a@example.com", checks=checks)
    wall = time.perf_counter() - start
    assert len(report.findings) == 5
    assert wall < sum(t.ms for t in timings) / 1000 / 2  # a ratio within one run, not a time budget


def test_a_check_that_raises_becomes_a_could_not_check_finding(offline_deps):
    report, _ = run_checks(offline_deps, "a@example.com", checks=[Check("t.broken", broken), Check("t.fine", slow(0))])
    summaries = sorted(f.summary for f in report.findings)
    assert summaries == ["Could not check t.broken: RuntimeError: the peer said no", "slept 0"]


def test_a_check_that_overruns_its_timeout_does_not_hold_the_answer(offline_deps):
    release, finished = threading.Event(), threading.Event()

    def hang(ctx):
        try:
            release.wait(30)  # bounded, so that a runner that waits for it still ends (and fails below)
            return Finding("t.hang", Severity.OK, "answered at last")
        finally:
            finished.set()

    checks = [Check("t.hang", hang), Check("t.quick", slow(0, Severity.CRITICAL))]
    try:
        report, _ = run_checks(offline_deps, "a@example.com", checks=checks)
        # The answer is there while the hung check is still running: the runner did not wait for it.
        assert not finished.is_set(), "run_checks returned only after the hung check had finished"
    finally:
        release.set()
        assert finished.wait(30)  # the straggler ends once released; no thread outlives the test
    assert [f.check for f in report.findings] == ["t.slow", "t.hang"]  # the quick one, then the overrun
    assert report.findings[1].summary == "Could not check t.hang: no answer within 0.5 s"


def test_per_region_checks_run_once_for_each_region(offline_deps):
    def where(ctx):
        return Finding("t.region", Severity.INFO, f"in {ctx.region}")

    report, _ = run_checks(offline_deps, "a@example.com", checks=[Check("t.region", where, per_region=True)])
    assert sorted((f.summary, f.region) for f in report.findings) == [
        ("in eu-west-1", "eu-west-1"),
        ("in us-east-1", "us-east-1"),
    ]


def test_with_no_region_configured_the_per_region_checks_do_not_run_and_one_finding_says_so(tmp_path):
    deps = Deps.build(Settings.from_env({}), store=Store(str(tmp_path / "s.db")))

    def where(ctx):
        return Finding("t.region", Severity.INFO, f"in {ctx.region}")

    def dns(ctx):
        return Finding("t.dns", Severity.OK, "no region needed")

    checks = [Check("t.region", where, per_region=True), Check("t.other", where, per_region=True), Check("t.dns", dns)]
    report, _ = run_checks(deps, "a@example.com", checks=checks)
    assert [f.check for f in report.findings] == ["aws.region", "t.dns"]  # ranked: the warning first
    assert report.findings[0].summary.startswith("No AWS region is configured, so SES's own 2 checks did not run")
    assert "in None" not in str(report.as_dict())


def test_the_verdict_is_the_worst_finding_that_was_actually_checked():
    findings = [
        Finding("a", Severity.WARNING, "meh"),
        Finding("b", Severity.WARNING, "Could not check b", data={"could_not_check": True}),
        Finding("c", Severity.CRITICAL, "on the suppression list"),
        Finding("d", Severity.OK, "fine"),
    ]
    report = Report("x@example.com", findings)
    assert report.verdict.check == "c"
    assert [f.check for f in report.problems] == ["c", "a", "b"]
    assert [f.check for f in report.passed] == ["d"]


def test_nothing_wrong_means_no_verdict():
    report = Report("x@example.com", [Finding("d", Severity.OK, "fine"), Finding("e", Severity.INFO, "fyi")])
    assert report.verdict is None
    assert report.as_dict()["verdict"] is None
