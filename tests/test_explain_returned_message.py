"""A whole pasted bounce message is explained by its own words, not by the copy of the mail it returns.

The layouts are the MTAs' own: Gmail's NDR ("** Address not found **" ... "----- Original message -----"),
Microsoft 365's ("Original message headers:"), sendmail's savemail.c ("----- Original message follows -----"),
qmail's qmail-send.c ("--- Below this line is a copy of the message."), Exim's default bounce text
("------ This is a copy of the message, including all the headers. ------") and Postfix's RFC 3464 report
(bounce.cf.default's "This is the mail system at host ...", a message/delivery-status part, then the
message/rfc822 part). The copies carry what mail sent through SES carries: a DKIM-Signature, an
Authentication-Results header, a marketing body.
"""

from __future__ import annotations

import pytest

from bot.classify import classify
from bot.classify.returned import without_returned_message
from bot.commands import CommandContext, execute, parse
from bot.deps import Deps
from tests.conftest import make_settings

COPY = (
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; s=224i4yxa5dv7c2xz3womw6peuasteono; d=amazonses.com;\n"
    "Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=bounce.example.com; dkim=pass; dmarc=pass\n"
    "From: Shop <shop@example.com>\n"
    "Subject: Your November deals\n"
    "\n"
    "Hi Jane, this month's offers. Content blocked? Unsubscribe here.\n"
)

GMAIL = (
    "** Address not found **\n\n"
    "Your message wasn't delivered to nosuchuser@gmail.com because the address couldn't be found, or is "
    "unable to receive mail.\n\n"
    "The response was:\n\n"
    "The email account that you tried to reach does not exist. Please try double-checking the recipient's "
    "email address for typos or unnecessary spaces. 41be03b00d2f7-5c6b0b1a2f8si1.45 - gsmtp\n\n"
    "----- Original message -----\n\n" + COPY
)
MICROSOFT = (
    "Your message to jane@contoso.com couldn't be delivered.\n"
    "jane wasn't found at contoso.com.\n\n"
    "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
    "lookup'\n\n"
    "Original message headers:\n\n" + COPY
)
SENDMAIL = (
    "The original message was received at Tue, 14 Nov 2023 10:00:00 GMT\n\n"
    "   ----- The following addresses had permanent fatal errors -----\n<jane@example.net>\n"
    "    (reason: 550 5.1.1 <jane@example.net>... User unknown)\n\n"
    "   ----- Original message follows -----\n\n" + COPY
)
QMAIL = (
    "Hi. This is the qmail-send program at mail.example.org.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
    "<jane@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
    "--- Below this line is a copy of the message.\n\n" + COPY
)
EXIM = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its recipients.\n\n"
    "  jane@example.net\n    mailbox is full: retry timeout exceeded\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n" + COPY
)
POSTFIX = (
    "This is the mail system at host mail.example.org.\n\n"
    "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"
    "<jane@example.net>: host mx.example.net[203.0.113.5] said: 550 5.1.1\n"
    "    <jane@example.net>: Recipient address rejected: User unknown in virtual\n"
    "    mailbox table (in reply to RCPT TO command)\n\n"
    "--A1B2C3.1700000000/mail.example.org\n"
    "Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mail.example.org\n\n"
    "Final-Recipient: rfc822; jane@example.net\nOriginal-Recipient: rfc822;jane@example.net\n"
    "Action: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <jane@example.net>: Recipient address rejected: User unknown\n\n"
    "--A1B2C3.1700000000/mail.example.org\n"
    "Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n" + COPY
)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (GMAIL, "unknown_user"),
        (MICROSOFT, "unknown_user"),
        (SENDMAIL, "unknown_user"),
        (QMAIL, "unknown_user"),
        (EXIM, "mailbox_full"),
        (POSTFIX, "unknown_user"),
    ],
    ids=["gmail", "microsoft", "sendmail", "qmail", "exim", "postfix"],
)
def test_a_pasted_bounce_is_explained_by_its_own_words_not_the_mail_it_returns(tmp_path, store, text, category):
    deps = Deps.build(make_settings(tmp_path), store=store)
    answer = execute(CommandContext(deps=deps, via="slack"), parse("explain " + text))
    assert answer.data["category"] == category


def test_a_delivery_status_block_is_read_by_its_diagnostic_not_its_rfc822_address_type():
    dsn = (
        "Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown"
    )
    assert classify(dsn).category == "unknown_user"
    assert classify("550 5.7.1 Message is not RFC 5322 compliant").category == "content"


def test_a_paste_of_the_returned_copy_alone_is_kept_whole():
    only_copy = "----- Original message -----\n" + COPY
    assert without_returned_message(only_copy) == only_copy
    assert without_returned_message(POSTFIX).endswith("Recipient address rejected: User unknown")
