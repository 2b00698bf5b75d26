"""The money pass: the amounts said, labelled budget / price / other by the words around them
where they are clear, by the model where they are not."""

from __future__ import annotations

import re

from meeting_notes.notes.money import counted_after, find_amounts, find_numbers
from meeting_notes.notes.passes.base import Candidate, PassRun, _context
from meeting_notes.notes.passes.people import PeopleResult
from meeting_notes.notes.passes.words import quote_from
from meeting_notes.notes.schema import TEXT_MAX, Evidence, TextItem

#: Most candidates (amounts, dates) listed in one pass's question.
MAX_CANDIDATES = 24
#: A sentence about what the customer can spend: its bare numbers are amount candidates too.
SPENDING_WORDS = re.compile(
    r"\b(budget\w*|set aside|spend|afford|allocat\w*|approved|cap|ceiling|up to)\b|予算|枠|上限|まで(?:なら|は)?出せ|投資",
    re.IGNORECASE,
)
#: Words that make an amount the seller's price.
PRICE_WORDS = re.compile(
    r"\b(pric\w*|quote\w*|fee|fees|charge\w*|list|discount\w*|we'd be at|we would be at|per (?:user|seat|license)|"
    r"plan is|costs? you|onboarding|subscription)\b|価格|料金|月額|年額|見積|初期費用|割引|値引|プラン|単価|税別|税込",
    re.IGNORECASE,
)
#: Words that make an amount neither budget nor price: losses, variances, revenue, penalties
#: (「差異が800万円」, "we lost 40k to no-shows"); the clause must not also be about spending or price.
OTHER_AMOUNT_WORDS = re.compile(
    r"\b(loss\w*|lost|losing|variance|discrepanc\w*|shrinkage|waste\w*|spoil\w*|damage\w*|penalt\w*|fined|"
    r"thr(?:ew|own|ow|owing) (?:\w+ )?away|expired|scrapp\w*|"
    r"revenue|turnover|sales of|write-?offs?|overtime)\b|差異|誤差|損失|ロス|廃棄|被害|売上|売り上げ|赤字|違約金|罰金|残業代",
    re.IGNORECASE,
)
#: A rate worked out into a total (「月45万円だと年間540万円」, "at 9 a seat that comes to 10,800 a
#: year"): the arithmetic of a price, whoever says it, not a budget.
PRICE_ARITHMETIC = re.compile(
    r"(?:月|年|人|台|件|ユーザー|ライセンス)[^。？！]{0,12}円(?:だと|なら|で計算すると)[^。？！]{0,20}(?:年間|月|合計|トータル|全部で)"
    r"|\b(?:that(?:'s| is)|comes? to|works? out (?:to|at)|adds up to|totals?)\b[^.?!]{0,40}\b(?:a|per|each|every) (?:year|month)\b"
    r"|\b(?:a|per) (?:seat|user|license|month)\b[^.?!]{0,30}\b(?:comes? to|works? out (?:to|at)|adds up to)\b",
    re.IGNORECASE,
)
#: An amount the customer says they are thinking of or expecting to spend (「年間で600万円程度を
#: 考えています」, "we're thinking around 50k"): their budget.
BUDGET_EXPECTATION = re.compile(
    r"円(?:程度|くらい|ぐらい|前後|ほど)?(?:まで)?を?(?:考えて|想定して|見込んで|見て)(?:い|お)"
    r"|\b(?:we're|we are|i'm|i am)\s+(?:thinking|looking at|expecting)\s+(?:something\s+)?(?:around|about|in the range of|roughly)\b"
    # what the customer settled on themselves: "we said twenty two k for the year", "we can go to 50k"
    r"|\b(?:we|i)(?:'ve| have)?\s+(?:said|agreed on|settled on|landed on|decided on|can do|could do|can go (?:up )?to|can stretch to|"
    r"(?:'d|would) want to stay under|want to stay under|have approved|got approved for)\b",
    re.IGNORECASE,
)
#: Smallest bare number taken as an amount in such a sentence.
MIN_BARE_AMOUNT = 100
#: The labels the money pass gives each candidate amount.
MONEY_LABELS = ("budget", "price", "other")


def _candidate_lines(cands: list[Candidate], with_dates: bool) -> str:
    lines = []
    for c in cands:
        when = f" = {c.resolved or '?'}" if with_dates else ""
        lines.append(f'{c.id} [{c.seg}] "{c.said}"{when} in "{_context(c.sentence, c.said)}"')
    return "\n".join(lines)


_CLAUSE = re.compile(r"[^,、，;；]+")


def money_rule(c: Candidate) -> str:
    """'budget', 'price' or 'other' when the words around the amount say so, '' when they do
    not: the model decides those. A rate worked out into a total is price arithmetic; an
    amount in a clause about a loss, variance or revenue (and not about spending or price) is
    neither; an amount the speaker is "thinking of" spending is budget; else spending words
    against price words, in the amount's clause first, then its sentence. Measured on the eval
    set, the 1.5B model labelled "what we've set aside ... eighteen thousand" as other and a
    price as budget, so the words win where they are clear."""
    at = c.sentence.find(c.said)
    clause = next((m.group(0) for m in _CLAUSE.finditer(c.sentence) if m.start() <= at < m.end()), "") if at >= 0 else ""
    if PRICE_ARITHMETIC.search(c.sentence):
        return "price"
    if clause and OTHER_AMOUNT_WORDS.search(clause) and not (SPENDING_WORDS.search(clause) or PRICE_WORDS.search(clause)):
        return "other"
    if BUDGET_EXPECTATION.search(clause or c.sentence):
        return "budget"
    for text in (clause, c.sentence):
        budget, price = bool(SPENDING_WORDS.search(text)), bool(PRICE_WORDS.search(text))
        if budget != price:
            return "budget" if budget else "price"
    return ""


def money_candidates(run: PassRun) -> list[Candidate]:
    """Amounts of money found by rule, plus bare numbers (100 or more) in a sentence about
    spending ("set aside", "予算", "枠"), which the money rules leave out without a currency."""
    out: list[Candidate] = []
    for sid, text in run.texts.items():
        found = find_amounts(text, run.language)
        spans = [m.span for m in found]
        mentions = [(m.span[0], m.said) for m in found]
        for n in find_numbers(text):
            inside = any(a <= n.span[0] < b or n.span[0] <= a < n.span[1] for a, b in spans)
            if inside or n.value < MIN_BARE_AMOUNT or counted_after(text, n.span[1]):
                continue  # "up to five thousand messages a month" counts messages, not money
            if SPENDING_WORDS.search(quote_from(text, n.said)):
                mentions.append((n.span[0], n.said))
        for _, said in sorted(mentions):
            out.append(Candidate(f"M{len(out) + 1}", sid, said, quote_from(text, said)))
    return out


def money_pass(run: PassRun, people: PeopleResult | None = None) -> tuple[list[TextItem], list[TextItem]]:
    """(budget, pricing) items: the amounts found by rule, classified by the model. An amount
    the seller says is never the customer's budget: a "budget" label on a seller's line
    becomes "price" (「月45万円だと年間540万円ですね」, the seller working out the yearly cost)."""
    cands = money_candidates(run)
    run.info["money_candidates"] = len(cands)
    if not cands:
        run.statuses["money"] = "skipped"
        return [], []
    labels = {c.id: label for c in cands if (label := money_rule(c))}
    undecided = [c for c in cands if c.id not in labels]
    run.info["money_rule_labels"] = dict(labels)
    if undecided:
        by_id = {c.id: c for c in undecided}
        for window, ids in run.by_window(((c.id, c.seg) for c in undecided), MAX_CANDIDATES):
            asked = [by_id[i] for i in ids]
            question = run.prompts.questions["money"].replace("{candidates}", _candidate_lines(asked, False))
            labels.update(run.label("money", question, ids, MONEY_LABELS, window) or {})
    else:
        run.statuses["money"] = "rules"
    seller_names = {p.name for p in people.participants if p.side == "seller"} if people else set()
    sellers = {label for label, name in people.speakers.items() if name in seller_names} if people else set()
    for c in cands:
        if labels.get(c.id) == "budget" and run.speakers.get(c.seg, "") in sellers:
            labels[c.id] = "price"
    run.info["money_labels"] = labels

    def items(label: str, skip: set[str]) -> list[TextItem]:
        result: list[TextItem] = []
        seen = set(skip)
        for c in cands:
            if labels.get(c.id) != label or c.sentence in seen:
                continue
            seen.add(c.sentence)
            result.append(TextItem(text=c.sentence[:TEXT_MAX], evidence=[Evidence(segment_ids=[c.seg], quote=c.sentence)]))
        return result

    budget = items("budget", set())
    pricing = items("price", {b.text for b in budget})
    return budget, pricing
