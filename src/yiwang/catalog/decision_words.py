"""The words of a decision, by item type (事项类型): what the approver's two buttons say, the
titles and sentences of the decision notice, and the law the notices cite.

One table serves the workbench's decision buttons, the notices (PDF, always Simplified Chinese:
a notice is a legal document in the issuing department's language) and the applicant's case
page (translated). A licence is granted or refused under the Administrative Licensing Law
(《中华人民共和国行政许可法》: acceptance and one-time correction, article 32; the written
decision, article 38). No other item type has a single law of procedure, so for them the notices
cite none rather than borrow the licensing law; the item's own legal basis (设定依据) is in its
guide.

The strings are marked with ``gettext_noop``: notices use them as they are, pages translate them
(``label``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

LICENSING_LAW = "《中华人民共和国行政许可法》"


@dataclass(frozen=True)
class DecisionWords:
    approve: str  # the approver's button and the outcome an applicant reads: 准予许可
    deny: str  # 不予许可
    approve_title: str  # the decision notice's title when approved: 准予行政许可决定书
    deny_title: str  # when denied: 不予行政许可决定书
    approves: str  # the notice's operative sentence: 决定准予行政许可
    denies: str  # 决定不予行政许可
    law: str = ""  # the law of procedure the notices cite; "" for none
    acceptance_article: str = ""  # its article on acceptance and correction (第三十二条)
    decision_article: str = ""  # its article on the written decision (第三十八条)

    def outcome(self, approved: bool) -> str:
        """The translated outcome, as the case page shows it."""
        return gettext(self.approve if approved else self.deny)

    def title(self, approved: bool) -> str:
        return self.approve_title if approved else self.deny_title

    def citation(self, article: str) -> str:
        """ "根据《…》第…条的规定，" or "" when the type has no law of procedure."""
        if not self.law or not article:
            return ""
        return f"根据{self.law}{article}的规定，"


WORDS: dict[str, DecisionWords] = {
    "licensing": DecisionWords(
        gettext_noop("准予许可"),
        gettext_noop("不予许可"),
        gettext_noop("准予行政许可决定书"),
        gettext_noop("不予行政许可决定书"),
        gettext_noop("决定准予行政许可"),
        gettext_noop("决定不予行政许可"),
        law=LICENSING_LAW,
        acceptance_article="第三十二条",
        decision_article="第三十八条",
    ),
    "confirmation": DecisionWords(
        gettext_noop("予以确认"),
        gettext_noop("不予确认"),
        gettext_noop("行政确认决定书"),
        gettext_noop("不予行政确认决定书"),
        gettext_noop("决定予以确认"),
        gettext_noop("决定不予确认"),
    ),
    "benefit": DecisionWords(
        gettext_noop("予以给付"),
        gettext_noop("不予给付"),
        gettext_noop("行政给付决定书"),
        gettext_noop("不予行政给付决定书"),
        gettext_noop("决定予以给付"),
        gettext_noop("决定不予给付"),
    ),
    "award": DecisionWords(
        gettext_noop("予以奖励"),
        gettext_noop("不予奖励"),
        gettext_noop("行政奖励决定书"),
        gettext_noop("不予行政奖励决定书"),
        gettext_noop("决定给予奖励"),
        gettext_noop("决定不予奖励"),
    ),
    "levy": DecisionWords(
        gettext_noop("予以征收"),
        gettext_noop("不予征收"),
        gettext_noop("行政征收决定书"),
        gettext_noop("不予行政征收决定书"),
        gettext_noop("决定予以征收"),
        gettext_noop("决定不予征收"),
    ),
    "adjudication": DecisionWords(
        gettext_noop("支持请求"),
        gettext_noop("驳回请求"),
        gettext_noop("行政裁决书"),
        gettext_noop("行政裁决书"),
        gettext_noop("裁决支持申请人的请求"),
        gettext_noop("裁决驳回申请人的请求"),
    ),
    "public_service": DecisionWords(
        gettext_noop("办结"),
        gettext_noop("不予办理"),
        gettext_noop("办理结果通知书"),
        gettext_noop("不予办理通知书"),
        gettext_noop("决定予以办理"),
        gettext_noop("决定不予办理"),
    ),
}
# Inspection, penalty, enforcement and other powers are not applied for in the usual sense; an
# item of theirs that is, is approved or not in plain words.
DEFAULT_WORDS = DecisionWords(
    gettext_noop("予以批准"),
    gettext_noop("不予批准"),
    gettext_noop("批准决定书"),
    gettext_noop("不予批准决定书"),
    gettext_noop("决定予以批准"),
    gettext_noop("决定不予批准"),
)


# An item whose approval cancels a certificate (result kind ``revocation``, a 注销 item) grants or
# refuses the cancellation, not a licence; a licence's cancellation on request falls under the
# licensing law's article 70.
REVOCATION_WORDS = DecisionWords(
    gettext_noop("准予注销"),
    gettext_noop("不予注销"),
    gettext_noop("准予注销决定书"),
    gettext_noop("不予注销决定书"),
    gettext_noop("决定准予注销"),
    gettext_noop("决定不予注销"),
)
LICENCE_REVOCATION_WORDS = dataclasses.replace(
    REVOCATION_WORDS, law=LICENSING_LAW, acceptance_article="第三十二条", decision_article="第七十条"
)


def words_for(item_type: str | None, result_kind: str | None = None) -> DecisionWords:
    if result_kind == "revocation":
        return LICENCE_REVOCATION_WORDS if item_type == "licensing" else REVOCATION_WORDS
    return WORDS.get(item_type or "", DEFAULT_WORDS)


def words_of_elements(elements: dict | None) -> DecisionWords:
    """The words of a published version: by its item type, and for a 注销 item by its result."""
    e = elements or {}
    return words_for(e.get("item_type"), e.get("result_kind"))


def label(text: str) -> str:
    """One of the table's strings in the reader's language."""
    return gettext(text)


def state_label(elements: dict | None, state: str, default: str) -> str:
    """A decided case's state as its page names it: a 注销 item reads 准予注销 / 不予注销 (the
    case's own 准予许可 would say a licence was granted); every other item keeps ``default``,
    the state's label."""
    if (elements or {}).get("result_kind") != "revocation" or state not in ("approved", "denied"):
        return default
    words = words_of_elements(elements)
    return label(words.approve if state == "approved" else words.deny)
