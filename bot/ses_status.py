"""Judging a status SES reports (an enum of its API): a value the bot does not know is never read as healthy.

SES adds values to its enums after botocore (and this bot) learned the list: a tenant or an account can
report a status no table here names. Each caller keeps its own table of the values it knows (every value
of the enum in the installed botocore sesv2 model: the good ones at its OK level, the bad ones at theirs)
and passes its level for anything else; the caller names that value in what it says.

    >>> judge_status("DISABLED", {"ENABLED": "ok", "DISABLED": "bad"}, "unknown")
    'bad'
    >>> judge_status("SUSPENDED", {"ENABLED": "ok", "DISABLED": "bad"}, "unknown")
    'unknown'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

_L = TypeVar("_L")


def judge_status(value: str, known: Mapping[str, _L], unknown: _L) -> _L:
    """The level of the status ``value``: its entry in ``known``, else ``unknown`` (never the OK level).

    A status that is not reported at all is the caller's to judge: it may mean "nothing to say".
    """
    return known.get(value.upper(), unknown)
