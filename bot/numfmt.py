"""Numbers for people: counts with thousands separators, never in exponent form (the SES API returns doubles
for counts, and `:g` would print 1234567.0 as '1.23457e+06').

    >>> fmt_num(1234567.0), fmt_num(2e6), fmt_num(0.5), fmt_num(None)
    ('1,234,567', '2,000,000', '0.5', 'None')
"""

from __future__ import annotations

from typing import Any


def fmt_num(value: Any) -> str:
    """1000.0 -> '1,000'; 0.5 -> '0.5'; what is not a number, as it is."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.2f}".rstrip("0").rstrip(".")
