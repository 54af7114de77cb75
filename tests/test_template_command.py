"""`template <name> [json]` renders through the AWS peer, names missing variables, shows failures seen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands import CommandContext, execute, parse
from bot.commands.template import parse_template_args, template_variables
from bot.deps import Deps
from bot.findings import Report, Severity
from bot.ingest import ingest_documents
from bot.target import UsageError

CORPUS = Path(__file__).parent / "data" / "ses-notifications"


def run(deps: Deps, text: str, via: str = "cli") -> Report:
    result = execute(CommandContext(deps=deps, via=via), parse(text))
    assert isinstance(result, Report)
    return result


def by_check(report: Report) -> dict[str, object]:
    return {f.check: f for f in report.findings}


def rendering_failure(template: str, recipient: str, message: str, timestamp: str) -> dict[str, object]:
    """A Rendering Failure event as SES publishes it (the AWS documentation sample, re-addressed)."""
    doc = json.loads((CORPUS / "awsdocs-evt-sns-event-publishing-retrieving-sns-failure.json").read_text())
    doc["mail"]["destination"] = [recipient]
    doc["mail"]["timestamp"] = timestamp
    doc["mail"]["messageId"] = f"msg-{recipient}-{timestamp}"
    doc["failure"] = {"templateName": template, "errorMessage": message}
    return doc


def test_a_template_that_renders_shows_its_subject_parts_and_a_text_excerpt(aws_peer, deps: Deps) -> None:
    aws_peer.add_template(
        "welcome",
        "Welcome, {{name}}!",
        html="<p>Hello <b>{{name}}</b></p>",
        text="Hello {{name}}\nfrom {{city}}",
    )

    report = run(deps, 'template welcome {"name": "Ana", "city": "Oslo"}')

    assert report.kind == "template"
    assert report.target == "welcome"
    assert report.verdict is None
    render = by_check(report)["template.render"]
    assert render.severity == Severity.OK
    assert render.summary == "Template 'welcome' renders: subject \u201cWelcome, Ana!\u201d"
    assert render.region == "us-east-1"
    assert render.data["subject"] == "Welcome, Ana!"
    assert render.data["excerpt"] == "Hello Ana from Oslo"
    assert [p["type"] for p in render.data["parts"]] == ["text/plain", "text/html"]
    assert render.data["used"] == ["name", "city"]
    assert "data keys given: city, name" in render.evidence
    history = by_check(report)["template.history"]
    assert history.severity == Severity.OK
    assert history.summary == "No Rendering Failure events recorded for 'welcome'"


def test_an_html_only_template_gets_its_excerpt_from_the_html(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("promo", "Sale", html="<h1>Big&nbsp;sale</h1><p>for {{name}}</p>")

    render = by_check(run(deps, 'template promo {"name": "Ana"}'))["template.render"]

    assert render.data["excerpt"] == "Big sale for Ana"  # entities decoded, whitespace collapsed


def test_every_missing_variable_is_named_not_only_the_first_one_ses_reports(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("reset", "Reset for {{name}}", text="Code {{code}} expires {{ expiry.date }}")

    report = run(deps, 'template reset {"name": "Bob"}')

    render = by_check(report)["template.render"]
    assert render.severity == Severity.ERROR
    assert render.summary == "Template 'reset' does not render: 'code', 'expiry.date' missing from the data"
    assert render.data["missing"] == ["code", "expiry.date"]
    assert render.evidence[0] == "SES: Attribute 'code' is not present in the rendering data."
    assert render.fix.startswith("Add 'code', 'expiry.date' to the template data")
    assert report.verdict is render


def test_names_used_only_in_if_blocks_comments_and_helpers_are_not_called_missing(aws_peer, deps: Deps) -> None:
    aws_peer.add_template(
        "promo",
        "Hi {{name}}",
        html="{{#if vip}}<b>{{discount}}</b>{{/if}}{{!-- {{old_field}} --}} {{lookup prices plan}}",
    )

    render = by_check(run(deps, "template promo {}"))["template.render"]

    assert render.data["missing"] == ["name"]
    assert render.summary == "Template 'promo' does not render: 'name' missing from the data"
    assert render.fix.startswith("Add 'name' to the template data")
    assert "variables the template uses: name, vip, discount" in render.evidence
    assert (
        "absent but used only in {{#if}}/{{#unless}} blocks (probably needed only when the block renders; "
        "SES does not document it): vip, discount"
    ) in render.evidence


def test_without_data_the_template_is_rendered_with_an_empty_object(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("reset", "Reset for {{name}}", text="Code {{code}}")

    render = by_check(run(deps, "template reset"))["template.render"]

    assert render.data["missing"] == ["name", "code"]
    assert "data keys given: none" in render.evidence


def test_an_unknown_template_lists_the_templates_that_exist(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("welcome", "Hi")
    aws_peer.add_template("password-reset", "Reset")

    render = by_check(run(deps, "template pasword-reset"))["template.render"]

    assert render.severity == Severity.ERROR
    assert render.summary == "There is no template named 'pasword-reset' in us-east-1"
    assert render.evidence == ["templates in us-east-1 (2): welcome, password-reset"]
    assert render.fix.startswith("Did you mean password-reset? Template names are case-sensitive")
    assert render.data["templates"] == ["welcome", "password-reset"]


def test_recent_rendering_failures_of_the_template_come_from_the_history(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("reset", "Reset for {{name}}", text="Code {{code}}")
    missing = "Attribute 'code' is not present in the rendering data."
    docs = [
        rendering_failure("reset", "ana@example.com", missing, "2026-11-01T10:00:00.000Z"),
        rendering_failure("reset", "bob@example.org", missing, "2026-11-02T10:00:00.000Z"),
        rendering_failure("welcome", "cy@example.net", missing, "2026-11-03T10:00:00.000Z"),
    ]
    ingest_documents(deps.store, docs, "test")

    report = run(deps, 'template reset {"name": "Bob", "code": "123456"}')

    assert by_check(report)["template.render"].severity == Severity.OK
    history = by_check(report)["template.history"]
    assert history.severity == Severity.WARNING
    assert history.summary == (
        "2 Rendering Failure events for 'reset', the last at 2026-11-02T10:00:00.000Z: 'code' missing"
    )
    assert history.evidence == [
        f"2026-11-02T10:00:00.000Z to bob@example.org: {missing}",
        f"2026-11-01T10:00:00.000Z to ana@example.com: {missing}",
    ]
    assert history.data["count"] == 2
    assert report.verdict is history


def test_throttling_says_to_try_again_in_a_second(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("welcome", "Hi")
    aws_peer.fail("TestRenderEmailTemplate", code="TooManyRequestsException", status=429, count=None)

    render = by_check(run(deps, "template welcome"))["template.render"]

    assert render.severity == Severity.WARNING
    assert render.summary == "SES renders test templates at most once a second: try again in a second"


def test_an_aws_failure_is_a_could_not_check_finding(aws_peer, deps: Deps) -> None:
    aws_peer.fail("TestRenderEmailTemplate", code="AccessDeniedException", status=403, count=None)

    render = by_check(run(deps, "template welcome"))["template.render"]

    assert render.data == {"could_not_check": True}
    assert "AccessDenied" in render.summary


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ("", 'give a template name, like `template welcome {"name": "Ana"}`'),
        (
            "welcome {name: Ana}",
            "the template data is not valid JSON "
            "(Expecting property name enclosed in double quotes at character 2); "
            'give an object, like {"name": "Ana"}',
        ),
        ('welcome ["Ana"]', 'the template data must be a JSON object, like {"name": "Ana"}'),
        ("wel/come", "`wel/come` is not a template name (letters, digits, _ and -, up to 64 characters)"),
        # Python's json reads these; SES, like the JSON standard, does not.
        (
            'welcome {"n": NaN}',
            'the template data is not valid JSON (NaN is not JSON); give an object, like {"name": "Ana"}',
        ),
        (
            'welcome {"n": 1e999999}',
            'the template data is not valid JSON (1e999999 is too big a number); give an object, like {"name": "Ana"}',
        ),
    ],
)
def test_bad_template_input_is_a_usage_error_that_says_what_to_type(rest: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_template_args(rest)
    assert str(err.value) == message


def test_json_pasted_in_slack_with_smart_quotes_and_a_code_span_is_understood() -> None:
    assert parse_template_args("welcome `{\u201cname\u201d: \u201cAna\u201d}`") == (
        "welcome",
        {"name": "Ana"},
    )
    assert parse_template_args('welcome ```json\n{"a": {"b": 1}}\n```') == ("welcome", {"a": {"b": 1}})


def test_json_in_a_code_block_on_the_next_line_is_the_data(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("hi", "Hi {{name}}", text="x")

    render = by_check(run(deps, 'template hi\n```{"name": "Ana"}```', via="slack"))["template.render"]

    assert render.data["subject"] == "Hi Ana"
    assert parse_template_args('hi\n```JSON\n{"name": "Ana"}\n```') == ("hi", {"name": "Ana"})
    assert parse_template_args("hi\t{}") == ("hi", {})


def test_typographic_quotes_inside_valid_json_values_are_kept(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("hi", "{{q}} {{who}}", text="x")

    render = by_check(run(deps, 'template hi {"q": "she said \u201chi\u201d", "who": "O\u2019Brien"}'))[
        "template.render"
    ]

    assert render.data["subject"] == "she said \u201chi\u201d O\u2019Brien"
    assert parse_template_args("hi {\u201cwho\u201d: \u201cO\u2019Brien\u201d}") == ("hi", {"who": "O\u2019Brien"})


def test_slack_escaped_characters_reach_ses_as_typed_and_the_terminal_is_read_as_is(aws_peer, deps: Deps) -> None:
    aws_peer.add_template("hi", "Hi {{name}}", text="x")

    from_slack = by_check(run(deps, 'template hi {"name": "Ana &amp; Bo &lt;3 &amp;lt;"}', via="slack"))
    from_terminal = by_check(run(deps, 'template hi {"name": "Ana &amp; Bo"}'))

    assert from_slack["template.render"].data["subject"] == "Hi Ana & Bo <3 &lt;"
    assert from_terminal["template.render"].data["subject"] == "Hi Ana &amp; Bo"


def test_template_variables_skip_helpers_and_names_inside_each_blocks() -> None:
    content = {
        "Subject": "Order {{order.id}} for {{{name}}}",
        "Html": "{{#if vip}}VIP{{else}}{{tier}}{{/if}}{{#each items}}{{title}} {{@index}}{{/each}}{{this}}",
    }

    assert template_variables(content) == ["order.id", "name", "vip", "tier", "items"]


def test_template_variables_read_whitespace_control_ampersand_and_else_if_and_tell_the_optional_ones() -> None:
    content = {
        "Subject": "{{~name~}} {{&raw}} {{! note {{x}} }}",
        "Text": "{{#if a}}A{{else if b}}{{c}}{{else}}{{d}}{{/if}} {{#unless e}}{{f}}{{/unless}} {{g.h}} {{log g}}",
    }

    assert template_variables(content) == ["name", "raw", "a", "b", "c", "d", "e", "f", "g.h"]
    assert template_variables(content, required=True) == ["name", "raw", "g.h"]
