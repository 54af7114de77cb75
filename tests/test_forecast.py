"""The forecast in rate alerts (issue 13): the least-squares slope of the last hours' rates, projected to the
next AWS level; only above the volume floor (`SESBOT_FORECAST_MIN_SENDS`), "not rising" when it is not."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.alerts import sweep
from bot.alerts.forecast import forecast, least_squares_slope
from bot.ingest import ingest_documents
from tests.conftest import put_rate, slack_poster
from tests.test_alerts import send_doc

BOUNCE_LEVELS = {"elevated": 0.02, "near_review": 0.04, "review": 0.05, "near_suspension": 0.08, "suspension": 0.10}
COMPLAINT_LEVELS = {"review": 0.001, "suspension": 0.005}
RISING = [0.02, 0.025, 0.03, 0.035, 0.04, 0.045]  # +0.5 points an hour


def test_the_slope_of_a_straight_line_is_its_step_and_gaps_keep_their_hour():
    assert least_squares_slope(RISING) == pytest.approx(0.005)
    assert least_squares_slope([0.01, None, 0.03, None, 0.05]) == pytest.approx(0.01)
    assert least_squares_slope([0.04]) is None
    assert least_squares_slope([0.02, 0.04, 0.02, 0.04]) == pytest.approx(0.004)


def test_a_rising_bounce_rate_reaches_review_in_about_an_hour():
    f = forecast([None] * 60 + RISING, 0.045, BOUNCE_LEVELS, 900, 500)
    assert (f.state, f.level, f.threshold) == ("reaches", "review", 0.05)
    assert f.hours == pytest.approx(1.0)
    assert f.text() == "At this trend (up 0.5 points an hour over the last 6 h), the review level (5%) in about 1 h."


def test_past_review_the_forecast_is_about_the_pause_level():
    f = forecast([0.05, 0.055, 0.06, 0.065, 0.07, 0.075], 0.075, BOUNCE_LEVELS, 900, 500)
    assert (f.level, round(f.hours or 0)) == ("suspension", 5)
    assert f.text().endswith("the pause level (10%) in about 5 h.")


def test_a_slowly_rising_complaint_rate_is_forecast_in_days():
    series = [0.0002, 0.00021, 0.00022, 0.00023, 0.00024, 0.00025]  # +0.001 points an hour
    f = forecast(series, 0.00025, COMPLAINT_LEVELS, 5000, 500)
    assert (f.state, f.level) == ("reaches", "review")
    assert f.hours == pytest.approx(75)
    assert f.text() == (
        "At this trend (up 0.001 points an hour over the last 6 h), the review level (0.1%) in about 3 days."
    )


def test_a_flat_or_falling_rate_is_not_rising():
    assert forecast([0.03] * 6, 0.03, BOUNCE_LEVELS, 900, 500).text() == (
        "At this trend: not rising (0 points an hour over the last 6 h)."
    )
    falling = forecast(list(reversed(RISING)), 0.02, BOUNCE_LEVELS, 900, 500)
    assert (falling.state, falling.slope) == ("not_rising", pytest.approx(-0.005))


def test_below_the_volume_floor_there_is_no_forecast_and_it_says_so():
    f = forecast(RISING, 0.045, BOUNCE_LEVELS, 120, 500)
    assert (f.state, f.hours) == ("too_few_sends", None)
    assert f.text() == "No forecast: too few sends to forecast (120 < 500) in the last 6 h."


def test_too_few_hourly_figures_or_already_at_pause_say_nothing_of_a_trend():
    assert forecast([None, None, None, None, 0.04, 0.045], 0.045, BOUNCE_LEVELS, 900, 500).state == "too_few_points"
    at_top = forecast(RISING, 0.12, BOUNCE_LEVELS, 900, 500)
    assert (at_top.state, at_top.text()) == ("at_top", "")
    assert forecast(RISING, 0.045, BOUNCE_LEVELS, None, 500).state == "no_volume"


# -- in the alert, against the peers --------------------------------------------------------------------


def rising_alert(aws_peer, slack_peer, alert_deps, clock, sends: int) -> str:
    """Six hourly CloudWatch figures rising to 4.5% (near review), `sends` sends in the last hour; one
    sweep: the text of the incident's parent message."""
    for hours_ago, value in zip(range(5, -1, -1), RISING, strict=True):
        put_rate(aws_peer, value, clock.now - timedelta(hours=hours_ago))
    at = clock.now - timedelta(minutes=30)
    ingest_documents(alert_deps.store, [send_doc(n, f"user{n}@example.org", at) for n in range(sends)], origin="test")
    sweep(alert_deps, slack_poster(slack_peer))
    (parent,) = [c for c in slack_peer.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
    return json.dumps(parent.params["blocks"])


def test_a_rate_alert_above_the_volume_floor_says_when_it_reaches_review(aws_peer, slack_peer, alert_deps, clock):
    shown = rising_alert(aws_peer, slack_peer, alert_deps, clock, sends=600)
    assert "Bounce rate 4.5% in us-east-1: near review" in shown
    assert "At this trend (up 0.5 points an hour over the last 6 h), the review level (5%) in about 1 h." in shown


def test_a_rate_alert_below_the_volume_floor_has_no_forecast(aws_peer, slack_peer, alert_deps, clock):
    shown = rising_alert(aws_peer, slack_peer, alert_deps, clock, sends=100)
    assert "At this trend" not in shown
    assert "No forecast: too few sends to forecast (100 &lt; 500) in the last 6 h." in shown  # Slack shows "<"


def test_the_volume_floor_counts_the_sends_of_the_current_hour_and_the_five_before(
    aws_peer, slack_peer, alert_deps, clock
):
    clock.tick(27)  # not on the hour: the first of the six hours started 5 h 27 min ago
    for hours_ago, value in zip(range(5, -1, -1), RISING, strict=True):
        put_rate(aws_peer, value, clock.now - timedelta(hours=hours_ago))
    docs = [
        send_doc(100 * h + n, f"user{h}-{n}@example.org", clock.now - timedelta(hours=h, minutes=17))
        for h in range(6)
        for n in range(90)
    ]
    ingest_documents(alert_deps.store, docs, origin="test")
    sweep(alert_deps, slack_poster(slack_peer))
    (parent,) = [c for c in slack_peer.calls_to("chat.postMessage") if not c.params.get("thread_ts")]
    shown = json.dumps(parent.params["blocks"])
    assert "No forecast" not in shown  # 6 h x 90 = 540 sends, not the 450 of five hours
    assert "At this trend" in shown
