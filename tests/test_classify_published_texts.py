"""Tests for bot.classify on the MTAs' own default texts and on sisimai's documented examples.

Every text here is in tests/data/bounces/providers-dev.jsonl (the development part of the providers corpus) and
comes from a public source it names: the MTA's source file that writes it (qmail-remote.c, Postfix smtpd /
smtp / cleanup / local, Exim routers and transports, sendmail), or the example a sisimai reason module documents
(lib/Sisimai/Reason/*.pm). Addresses and IPs are the documentation ranges. One or more per category, with the
rule that decides it: these pin down the wording families of issue 12 that the MTAs and sisimai publish.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.classify import CATEGORIES, classify

SISIMAI = "https://github.com/sisimai/p5-sisimai/blob/master/lib/Sisimai/Reason/"
QMAIL = "https://github.com/notqmail/notqmail/blob/master/qmail-remote.c"
POSTFIX = "https://github.com/vdukhovni/postfix/blob/master/postfix/src/"
EXIM = "https://github.com/Exim/exim/blob/master/src/src/"
SENDMAIL = "sendmail's usersmtp.c / queue.c / proto.m4 defaults (public copies on GitHub)"
SITEPACKAGE = (
    "http://www.sitepackage.de/service/dokumentation/auswertung/typische-fehlermeldungen-bei-unzustellbarkeit.html"
)
ORACLE = "https://docs.oracle.com/it-it/iaas/Content/Email/Concepts/troubleshooting.htm (SMTP error table)"
UMD = "http://helpdesk.umd.edu/documents/3/3025/"
POLARIS = "http://wiki.polarismail.com/display/Support/Common+Problems"
COREMAIL_LIST = "https://blog.sina.com.cn/s/blog_8dc13ec50101fxxr.html"
SYMANTEC_CLOUD = "https://knowledge.broadcom.com/external/article/161393/rejection-errors-when-delivering-to-3rd.html"
BARUWA = "https://bastion.umanix.net/info"
MS_NDR = (
    "learn.microsoft.com: Exchange Online NDRs "
    "(non-delivery-reports-in-exchange-online, fix-error-code-5-7-700-through-5-7-750)"
)

# (text, category, rule id, source)
PUBLISHED: list[tuple[str, str, str, str]] = [
    # --- ip_blocklist
    ("Access from ip address 192.0.2.1 blocked", "ip_blocklist", "ip-blocked", SISIMAI + "Blocked.pm"),
    # --- domain_blocklist: a domain of the envelope or the client's host name on a domain list
    (
        "554 5.7.1 Service unavailable; Client host [mail.example.com] blocked using dbl.spamhaus.org",
        "domain_blocklist",
        "named-domain-list",
        POSTFIX + "smtpd/smtpd_check.c (reject_rhsbl_reverse_client)",
    ),
    (
        "550 rejected because example.com is in a black list at multi.uribl.com",
        "domain_blocklist",
        "named-domain-list",
        EXIM + "acl.c (the default dnslists message)",
    ),
    # --- reputation
    ("rate limited due to IP reputation.", "reputation", "reputation", SISIMAI + "BadReputation.pm"),
    # --- content
    ("550 spam detected", "content", "content", SISIMAI + "SpamDetected.pm"),
    (
        "Your message was infected with a virus. You should download a virus scanner and check your computer for "
        "viruses.",
        "content",
        "content",
        SISIMAI + "VirusDetected.pm",
    ),
    # --- authentication: SPF/DKIM/DMARC, and SMTP AUTH at receivers other than SES
    (
        "550 5.7.1 Email rejected per DMARC policy for example.org",
        "authentication",
        "authentication",
        SISIMAI + "AuthFailure.pm",
    ),
    ("570 5.7.0 Authentication failure", "authentication", "authentication", SISIMAI + "SecurityError.pm"),
    (
        "Connected to 192.0.2.1 but authentication was rejected (AUTH LOGIN).",
        "authentication",
        "smtp-auth",
        "https://github.com/denislemire/netqmail/blob/master/qmail-remote.c (SMTP AUTH patch)",
    ),
    (
        "553 5.7.1 <user@example.com>: Sender address rejected: not logged in",
        "authentication",
        "smtp-auth",
        POSTFIX + "smtpd/smtpd_check.c (reject_sender_login_mismatch)",
    ),
    # --- unknown_user
    ("550 5.1.1 Unknown User", "unknown_user", "unknown-user", SISIMAI + "UserUnknown.pm"),
    ("recipient suspend the service", "unknown_user", "unknown-user", SISIMAI + "Suspend.pm"),
    # --- mailbox_full
    (
        "mailbox is full (MTA-imposed quota exceeded while writing to file /var/mail/user)",
        "mailbox_full",
        "mailbox-full",
        EXIM + "transports/appendfile.c",
    ),
    # --- suppressed
    ("address neko@example.jp in the suppression list", "suppressed", "suppression-list", SISIMAI + "Suppressed.pm"),
    # --- policy: relay, HELO, the envelope sender, the receiver's own list of sender addresses
    (
        "550 5.7.1 <user@example.com>... Relaying denied. IP name lookup failed [192.0.2.1]",
        "policy",
        "reverse-dns",
        SENDMAIL,
    ),
    (
        "Connected to 192.0.2.112 but my name was rejected. Remote host said: 501 5.0.0 Invalid domain name",
        "policy",
        "reverse-dns",
        SISIMAI + "Blocked.pm",
    ),
    ("450 4.7.1 <mail.example.com>: Helo command rejected: Host not found", "policy", "reverse-dns", POSTFIX),
    (
        "553 5.7.1 <user@example.com>: Sender address rejected: not owned by user sender@example.com",
        "policy",
        "sender",
        POSTFIX + "smtpd/smtpd_check.c",
    ),
    (
        "550 5.7.1 Access denied (sender blacklisted)",
        "policy",
        "sender-address-listed",
        SISIMAI + "Rejected.pm",
    ),
    # --- message_too_large
    (
        "message size 30000000 exceeds size limit 10240000 of server mx.example.com[192.0.2.1]",
        "message_too_large",
        "message-too-large",
        POSTFIX + "smtp/smtp_proto.c",
    ),
    ("552 5.3.4 Error: message file too big", "message_too_large", "code.message-too-large", POSTFIX + "cleanup"),
    # --- dns
    ("all relevant MX records point to non-existent hosts", "dns", "dns", EXIM + "routers/dnslookup.c"),
    ("all host address lookups failed permanently", "dns", "dns", EXIM + "routers/dnslookup.c"),
    ("Sorry, I couldn't find any host by that name. (#4.1.2)", "dns", "dns", QMAIL),
    (
        "Sorry. Although I'm listed as a best-preference MX or A for that host, it isn't in my control/locals file, "
        "so I don't treat it as local. (#5.4.6)",
        "dns",
        "dns",
        QMAIL,
    ),
    ("553 5.3.5 localhost.localdomain. config error: mail loops back to me (MX problem?)", "dns", "dns", SENDMAIL),
    # --- connection: timeouts, dropped connections, TLS, gave up retrying, loops
    ("Connected to 192.0.2.1 but connection died. (#4.4.2)", "connection", "code.connection", QMAIL),
    ("connect to mx.example.com[192.0.2.1]:25: Connection timed out", "connection", "connection", POSTFIX + "smtp"),
    (
        "TLS is required, but was not offered by host mx.example.com[192.0.2.1]",
        "connection",
        "google.tls-required",
        POSTFIX + "smtp/smtp_proto.c",
    ),
    ("Cannot send message for 5 days", "connection", "connection", SENDMAIL),
    ("400 Delivery time expired", "connection", "connection", SISIMAI + "Expired.pm"),
    # --- throttling
    (
        "452 4.3.2 Connection rate limit exceeded. (in reply to MAIL FROM command)",
        "throttling",
        "throttling",
        SISIMAI + "TooManyConn.pm",
    ),
    (
        "421 4.7.0 mail.example.com Error: too many connections from 192.0.2.1",
        "throttling",
        "throttling",
        POSTFIX + "smtpd/smtpd.c",
    ),
    # --- other: the receiver's own trouble, or nothing said about the cause
    ("System resources temporarily unavailable. (#4.3.0)", "other", "", QMAIL),
    ("451 4.3.0 Error: queue file write error", "other", "receiver-error", POSTFIX + "smtpd/smtpd.c"),
]


def test_a_sender_address_on_the_receivers_own_list_is_policy_and_a_named_list_still_wins() -> None:
    own = classify("550 5.7.1 Access denied (sender blacklisted)")
    assert (own.category, own.blocklist) == ("policy", None)
    named = classify("554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org")
    assert (named.category, named.blocklist) == ("ip_blocklist", "zen.spamhaus.org")


def test_a_postfix_delivery_suspended_by_a_refused_connection_is_not_a_suspended_user() -> None:
    text = "delivery temporarily suspended: connect to example.com[192.168.0.1]: Connection refused"
    assert classify(text).category == "connection"
    assert classify("recipient is currently suspended").category == "unknown_user"


# The fourth batch: receivers' replies as bounces, issue threads and the receivers' own pages quote them (Microsoft
# 365 / Outlook.com, Gmail, Yahoo, Mimecast, Barracuda, BlueTie, GMX / web.de / IONOS and other German providers'
# lists, Postfix logs in public issues, RFC 5321 / 7505). Every one is in the dev corpus with its source.
RECEIVERS: list[tuple[str, str, str, str]] = [
    # --- ip_blocklist: a named list, Microsoft's banned-sender list, a provider's own block code
    (
        "550 5.7.606 Access denied, banned sending IP [185.234.72.45]. To request removal from this list please "
        "visit https://sender.office.com/ and follow the directions. For more information please go to "
        "http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) (in reply to RCPT TO command)",
        "ip_blocklist",
        "named-ip-list",
        "https://pastebin.com/EH1TUb0X",
    ),
    ("554 BL0004", "ip_blocklist", "named-ip-list", "https://mxtoolbox.com/Bouncebacks (BlueTie)"),
    # --- reputation: the receiver's own verdict on the sender
    (
        "421 Message from (x.x.x.x) temporarily deferred - 4.16.50",
        "reputation",
        "yahoo.deferred",
        "https://help.yahoo.com/kb/postmaster/SLN3437.html",
    ),
    ("421 4.7.0 [TS02] Temporarily deferred", "reputation", "yahoo.deferred", "smtp-error-codes.info (Yahoo TS02)"),
    # --- content: the message itself
    (
        "550-5.7.1 [195.64.158.216 12] Our system has detected that this message is 550-5.7.1 likely unsolicited "
        "mail. To reduce the amount of spam sent to Gmail, 550-5.7.1 this message has been blocked. Please visit "
        "550 5.7.1 https://support.google.com/mail/answer/188131 for more information. dh9si2656259wib.8 - gsmtp",
        "content",
        "content",
        "https://pastebin.com/UaXB41uS",
    ),
    # --- policy: the receiver's own rules, the envelope sender
    (
        "550 5.7.1 This message violates example.com email policy. - gcdp <sessionid> - gsmtp",
        "policy",
        "policy-words",
        "https://support.google.com/a/answer/3726730",
    ),
    ("550 5.7.27 Sender address has null MX", "policy", "sender", "RFC 7505 section 4.2"),
    ("421 Sender address blocked", "policy", "mimecast.blocked-senders", "Mimecast SMTP error codes (copy)"),
    # --- throttling
    (
        "450 4.2.1 Peak SMTP relay limit exceeded for this customer.",
        "throttling",
        "google.receiving-rate",
        "https://support.google.com/a/answer/3726730",
    ),
    (
        "451 Internal resource is temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451 "
        "[Aj3QXapeMpqZYaeFwWhjzw.us32]",
        "throttling",
        "mimecast.greylisting",
        "https://dwlistore.dwli.org/knowledgebase/444/Emails-Not-Sending-to-Mimecast-Recipients-.html",
    ),
    # --- unknown_user
    ("551 User not local; please try <user@example.org>", "unknown_user", "unknown-user", "RFC 5321 section 3.4"),
    ("User user@example.com not listed in Domino Directory", "unknown_user", "unknown-user", SITEPACKAGE),
    ("550 : Recipient address rejected: Account Closed", "unknown_user", "unknown-user", SITEPACKAGE),
    # --- mailbox_full, message_too_large
    ("552 5.2.2 Over STORAGE quota", "mailbox_full", "mailbox-full", SITEPACKAGE),
    ("552 Error: message too large", "message_too_large", "message-too-large", SITEPACKAGE),
    # --- connection: refused, unreachable, timed out, TLS
    (
        "connect to nine.testrun.org[2a01:4f9:fff1:59::1]:25: Network is unreachable",
        "connection",
        "connection",
        "https://github.com/chatmail/relay/pull/919",
    ),
    (
        "lost connection with mailtr.transal.bzh[90.102.106.125] while sending end of data -- message may be "
        "sent more than once",
        "connection",
        "connection",
        "https://github.com/hardware/mailserver/issues/234",
    ),
    (
        "Error upgrading connection with STARTTLS: 454 4.7.0 TLS not available due to local problem",
        "connection",
        "connection",
        "https://github.com/sous-chefs/postfix/issues/145",
    ),
    # --- less-covered MTAs and filters (round 3, issue 12): the replies behind the widened rules
    (
        "500 Line too long",
        "other",
        "smtp-protocol",
        "http://www.hmailserver.com/documentation/latest/?page=reference_error_messages_smtp",
    ),
    ("451 From:domain must resolve", "policy", "sender", UMD),
    ("462 Daily send limit reached. Please try again tomorrow", "throttling", "throttling", POLARIS),
    ("451 out of allow RCPT numbers.", "throttling", "throttling", COREMAIL_LIST),
    ("Reason: 554 Too many Received: headers", "connection", "connection", SYMANTEC_CLOUD),
    ("The domain example.com is banned", "policy", "sender-address-listed", BARUWA),
    ("Legitimate bounces are never sent to more than one recipient.", "policy", "sender", BARUWA),
    (
        "Mail for user@example.com rejected for policy reasons. Recipient could not be found in the Domino Directory.",
        "unknown_user",
        "unknown-user",
        "https://aacable.wordpress.com/2020/02/",
    ),
    (
        "Your sender domain is required to send via an encrypted SMTP session",
        "connection",
        "google.tls-required",
        "https://vipre.freshdesk.com/support/solutions/articles/1000290396-email-rejection-reasons",
    ),
    ("451 4.3.0 Error queuing message", "other", "", "https://github.com/slimta/python-slimta/pull/69"),
    # --- a sending service's own answers (Oracle Email Delivery)
    ("4.7.1 Suppression for user <user ocid> to <recpt>", "suppressed", "suppression-list", ORACLE),
    ("421 Too many auth failures, try again later", "throttling", "throttling", ORACLE),
    ("421 4.3.0 Mail system failure, closing transmission channel", "other", "receiver-trouble", ORACLE),
    # --- a required header missing is the message's form, whatever the code (5.2.1 would read as a disabled mailbox)
    (
        "5.2.1 Subject is Mandatory.",
        "content",
        "content-format",
        "https://zstatic.zohostatic.com/zeptomail/help/api/smtp-error-codes.html",
    ),
    # --- other: nothing in the words says why
    ("450 4.7.1 [EAB] 554 IP=192.0.2.10 - A problem occurred.", "other", "", "https://coviserver.de/e-mail-geblockt"),
    # --- vendors' and providers' own reject / NDR texts (fifth batch)
    (
        "The email address you entered couldn't be found. Please check the recipient's email address and try to "
        "resend the message. If the problem continues, please contact your helpdesk.",
        "unknown_user",
        "unknown-user",
        "https://pastebin.com/e6yfDi5v",
    ),
    ("user wasn't found at example.com.", "unknown_user", "unknown-user", "https://pastebin.com/gJSdfVeR"),
    (
        "l'adresse électronique du destinataire a changé. L'adresse à laquelle ce message a été envoyé "
        "n'accepte plus de messages.",
        "unknown_user",
        "unknown-user",
        "https://uitranslation.com/Images/?lang=fr-fr&term=04a5485eb88d",
    ),
    ("该用户未开通QQ邮箱", "unknown_user", "unknown-user", "https://qqmailbox.com/transceivers/169.html"),
    (
        "HST-RTE: Hourly send rate exceeded, retry later.",
        "throttling",
        "throttling",
        "https://portal.iridis.uk/?action=article&cmd=knowledgebase&id=254",
    ),
    (
        "Reason: The domain size limit has been exceeded",
        "mailbox_full",
        "mailbox-full",
        "http://kb.indsoft.net/kb/a70/common-email-delivery-errors.aspx",
    ),
    (
        "550 [permfail] bellsouth.net requires valid sender domain",
        "policy",
        "sender",
        "http://worldnet.att.net/general-info/bls_info/block_enduser.html",
    ),
    ("550 message sending for this account is disabled", "policy", "sender", "https://mailout.ru/2015/09"),
    (
        "550 You are registered as spammer (by user's reject list)",
        "policy",
        "recipient-block",
        "https://puffinknight.tistory.com/102",
    ),
    (
        "550 Error. Blocked for abuse",
        "reputation",
        "reputation",
        "http://www.att.net/general-info/mail_info/block_enduser.html",
    ),
    ("451 4.4.0 DNS resolving error", "dns", "dns", "http://blog.jinbo.net/007/archive/20051107"),
    (
        "Your message wasn't delivered because the email admin for the organization 'example.local' created an "
        "email rule restriction. Please contact the email admin for that organization and ask them to remove or "
        "update the rule restriction.",
        "policy",
        "policy-words",
        "https://pastebin.com/HZca6aT2",
    ),
]


# The fifth batch: the replies quoted by open-source and commercial MTAs' bounce classifiers and bounce handlers
# (KumoMTA's community rules and its own texts, PowerMTA's sample backoff patterns, PHP-Bounce-Handler's response
# table, Sympa's equivalence table). Every one is in the dev corpus with its source.
KUMO_RULES = "https://github.com/KumoCorp/kumomta/blob/main/assets/community/bounces.toml"
POWERMTA = "PowerMTA sample config smtp-pattern-list (public copy on GitHub)"
PHP_BOUNCE = "https://github.com/cfortune/PHP-Bounce-Handler/blob/master/bounce_responses.php"
SYMPA = "https://github.com/sympa-community/sympa (src/lib/BounceMessage.pm, %equiv)"
HANDLERS: list[tuple[str, str, str, str]] = [
    # --- unknown_user: an account that is not active, a mailbox that takes no mail, a directory miss
    ("550 Account is not active", "unknown_user", "unknown-user", KUMO_RULES),
    ("550 User account not activated", "unknown_user", "unknown-user", KUMO_RULES),
    ("mail is not currently being accepted for this mailbox", "unknown_user", "unknown-user", PHP_BOUNCE),
    ("was not found in LDAP server", "unknown_user", "unknown-user", PHP_BOUNCE),
    ("receiver not found", "unknown_user", "unknown-user", SYMPA),
    ("not known at this site.", "unknown_user", "unknown-user", SYMPA),
    # --- policy: the envelope sender's domain does not resolve
    ("550 sorry, your envelope sender domain must exist", "policy", "sender", KUMO_RULES),
    ("553 Sender Domain Resolve Fail", "policy", "sender", KUMO_RULES),
    # --- mailbox_full, with the misspelling as published
    ("552 Mailbox limit exeeded for this email address", "mailbox_full", "mailbox-full", KUMO_RULES),
    # --- throttling: a limit on how long a connection may last
    ("421 Exceeded allowable connection time", "throttling", "throttling", POWERMTA),
    # --- connection
    ("421 Connection cannot be established", "connection", "connection", POWERMTA),
    (
        "400 KumoMTA internal: failed to connect to any candidate hosts: TLS handshake with ResolvedAddress { name: "
        '"mx.dane.example.", addr: 127.0.0.1, is_secure: true }:PORT failed: <certificate verify failed>',
        "connection",
        "connection",
        "KumoCorp/kumomta integration tests (DANE mismatch snapshot)",
    ),
    # --- connection: a sending MTA that found no host to take the message
    ("Tried all MXs", "connection", "connection", "Haraka outbound try_deliver (temp_fail reason)"),
    (
        "No SMTP servers were available for example.com. No hosts to try.",
        "connection",
        "connection",
        "Postal SMTP sender (the template with the domain filled in)",
    ),
    # --- content: spam verdicts in handlers' wording
    ("550 REJECTED - spamtext", "content", "content", KUMO_RULES),
    ("Wiadomosc zostala odrzucona przez system antyspamowy", "content", "content", PHP_BOUNCE),
    # --- reputation, ip_blocklist
    (
        "554 Your access to this mail system has been rejected due to poor reputation of a domain used in "
        "message transfer",
        "reputation",
        "reputation",
        KUMO_RULES,
    ),
    (
        "550 Recipient not on bypass list, your IP has been found on a block list",
        "ip_blocklist",
        "ip-list-words",
        KUMO_RULES,
    ),
    # --- other: a generic failure that names no cause stays other
    ("550 permanent failure for one or more recipients", "other", "", KUMO_RULES),
]


MAILCHANNELS = "https://docs.mailchannels.com/inbound/smtp-errors"
HARAKA_HEADERS = "https://github.com/haraka/haraka-plugin-headers (index.js)"
COX_FORUMS = "Cox support on forums.cox.com (the AUP# codes of its refusals)"
# The eighth batch (issue 12): gateways' and filters' own texts, sending services' docs, receivers' help pages
# and replies quoted in public threads -- one text per rule or pattern the batch added.
GATEWAYS: list[tuple[str, str, str, str]] = [
    # --- throttling: greylisting, a sending IP paused, an IP held back for heavy use
    ("450 [S09] Try Again Later", "throttling", "mailchannels.greylisting", MAILCHANNELS),
    (
        "421 cmsmtp blocked. Refer to Error Codes section at for more information. AUP#CXCNCT: retry timeout exceeded",
        "throttling",
        "cox.connections",
        COX_FORUMS,
    ),
    (
        "451 4.3.0 [internal] Sending IP temporarily suspended",
        "throttling",
        "throttling",
        "SparkPost/support-docs: understanding-delays-bounces.md",
    ),
    (
        "Your IP address has been restricted due to heavy usage.",
        "throttling",
        "throttling",
        "https://www.telserco.com/hosting-notices/throttling-sending/",
    ),
    # --- reputation: the service's own block, too many invalid recipients from one account
    ("550 [S10] Blocked", "reputation", "mailchannels.ip-blocked", MAILCHANNELS),
    (
        "550 5.7.1 [BR] Our system has detected an excessively high number of invalid recipients originating from "
        "your account.",
        "reputation",
        "reputation",
        "https://docs.mailchannels.com/email-api/sending-policies",
    ),
    # --- authentication: a receiver's code for an SPF / DKIM failure
    (
        "<user@example.com> message rejected. Refer to Error Codes section at for more information. AUP#CXSNDR",
        "authentication",
        "cox.sender-authentication",
        COX_FORUMS,
    ),
    # --- content: the message's form (headers, line length) and its attachments
    ("Required header 'Date' missing", "content", "content-format", HARAKA_HEADERS),
    ("The Date header is too far in the future", "content", "content-format", HARAKA_HEADERS),
    ("outgoing mail must not have a Return-Path header (RFC 5321)", "content", "content-format", HARAKA_HEADERS),
    (
        "550 maximum allowed line length is 998 octets, got 1003",
        "content",
        "content-format",
        "https://github.com/djcb/mu/issues/859",
    ),
    (
        "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit "
        "https://postmaster.web.de/en/case?c=hi",
        "content",
        "united-internet.header-case",
        "https://github.com/zammad/zammad/issues/4630",
    ),
    (
        "550 Rejected due to bad file extension in attachment",
        "content",
        "content",
        "https://github.com/poolpOrg/filter-rspamd/pull/5",
    ),
    # --- unknown_user: the recipient's account locked
    (
        "554 5.7.1 <mail-pg1-f174.google.com[192.0.2.1]>: Client host rejected: Address locked or deactivated; see "
        "http://mail.messagingengine.com/docs/locked.html",
        "unknown_user",
        "unknown-user",
        "https://brianjohnson.co.za/posts/avoid-fastmail/",
    ),
    # --- connection: no local address to connect from, a loop
    (
        "connect to ironportin-lyk-3.it.gu.se[2001:6b0:d:151::151:106]:25: Cannot assign requested address",
        "connection",
        "connection",
        "https://github.com/docker-mailserver/docker-mailserver/issues/762",
    ),
    ("550 Loop detected", "connection", "connection", "https://github.com/postalserver/postal/issues/1074"),
]


ALL = PUBLISHED + RECEIVERS + HANDLERS + GATEWAYS


def test_a_refusal_due_to_a_bad_attachment_is_content_not_a_verdict_on_the_sending_host() -> None:
    # "host ... said: 550 Rejected due to bad ..." once read as the reputation words' "host ... rejected due to
    # bad": "bad" is a verdict on the sender only when no file, attachment or content follows it.
    wrapped = "host mx1.example.net[192.0.2.10] said: 550 Rejected due to bad file extension in attachment"
    assert classify(wrapped).category == "content"
    assert classify("550 Your host has been rejected due to bad reputation").category == "reputation"


@pytest.mark.parametrize(("text", "category", "rule", "source"), ALL, ids=[c[0][:60] for c in ALL])
def test_a_published_text_gets_its_category_from_the_rule_its_wording_belongs_to(
    text: str, category: str, rule: str, source: str
) -> None:
    result = classify(text)
    assert (result.category, result.rule or "") == (category, rule), source
    if category == "other":
        assert result.confidence == "low"


def test_every_category_has_a_published_text_here_and_each_is_in_the_dev_corpus_with_its_label_and_source() -> None:
    assert {c[1] for c in PUBLISHED} == set(CATEGORIES)
    dev = Path(__file__).parent / "data" / "bounces" / "providers-dev.jsonl"
    records = {json.loads(line)["text"]: json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines()}
    for text, category, _, source in ALL:
        assert text in records, source
        assert records[text]["category"] == category
        assert records[text]["source"]


def test_microsofts_documented_directory_and_tenant_block_list_refusals_are_not_misread() -> None:
    # Exchange Online 5.4.1 directory-based edge blocking, with the address before the words and the EOP server
    # after them; 5.7.703, a block the sender's own organisation set in the Tenant Allow/Block List (MS_NDR).
    edge = classify(
        "Remote Server returned '550 5.4.1 [user@example.com]: Recipient address rejected: Access denied "
        "[CY1GCC01FT007.eop-gcc01.prod.protection.outlook.com]'"
    )
    assert (edge.category, edge.rule) == ("unknown_user", "microsoft.directory-rejected"), MS_NDR
    tenant = classify(
        "Your message can't be delivered because messages to user@example.com are blocked by your organization "
        "using Tenant Allow Block List."
    )
    assert (tenant.category, tenant.blocklist) == ("policy", None), MS_NDR
    # A Postfix access table's identical words without Microsoft's code or server stay policy.
    assert classify("554 5.7.1 <user@example.com>: Recipient address rejected: Access denied").category == "policy"


# Not published texts: the project's own renderings of "user unknown", "mailbox full" and "no such domain" in
# other languages (rules.toml says so beside the patterns). Pinned so the patterns keep working.
TRANSLATIONS: list[tuple[str, str]] = [
    ("550 Utente sconosciuto", "unknown_user"),
    ("550 Пользователь не найден", "unknown_user"),
    ("550 用户不存在", "unknown_user"),
    ("550 Gebruiker onbekend", "unknown_user"),
    ("552 Quota überschritten", "mailbox_full"),
    ("552 Квота превышена", "mailbox_full"),
    ("552 邮箱空间已满", "mailbox_full"),
    ("552 Cuota de buzón excedida", "mailbox_full"),
    ("550 Domaine inexistant", "dns"),
    ("550 域名不存在", "dns"),
]


@pytest.mark.parametrize(("text", "category"), TRANSLATIONS)
def test_the_projects_own_translations_of_the_common_refusals_are_recognised(text: str, category: str) -> None:
    assert classify(text).category == category


def test_a_full_mailbox_of_an_inactive_gmail_account_says_to_stop_sending_not_to_wait():
    # Google's SMTP error table (552 5.2.2 "out of storage space and inactive"), as Gmail's bounces word it.
    result = classify(
        "552-5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the "
        "recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp"
    )
    assert (result.category, result.rule) == ("mailbox_full", "google.inactive-account")
    assert result.fix.startswith("Stop sending to the address")
    assert classify("552 5.2.2 The email account that you tried to reach is over quota.").rule == "mailbox-full"


def test_gmail_closing_the_connection_at_ehlo_is_a_limit_on_the_ip_not_a_server_that_is_down():
    # Google's SMTP error table: 421 4.7.0 "Try again later, closing connection. (EHLO)" -- "This usually
    # indicates a Denial of Service (DoS) for the SMTP relay at the HELO stage".
    result = classify("421-4.7.0 Try again later, closing connection. (EHLO) a1-20020a05600c2c4100b00.2 - gsmtp")
    assert (result.category, result.rule) == ("throttling", "google.ehlo-try-again")
    assert "not down" in result.summary
    assert "Postmaster Tools" in result.fix
