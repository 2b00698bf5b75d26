"""The competitors pass: products and companies said near competitor cues, by rule where the
words make one a rival, by the model among the rest; systems the product only connects to are
left out."""

from __future__ import annotations

import re

from meeting_notes.notes import prefilter
from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.passes.base import PassRun, Window, _lim, _Out, _schema
from meeting_notes.notes.passes.people import PeopleResult
from meeting_notes.notes.passes.words import _overlaps, sentences
from meeting_notes.notes.schema import TEXT_MAX, Competitor

#: Most candidate competitor names offered.
MAX_NAMES = 20
#: A product named in a sentence with these words is a system the seller's product connects to
#: (the customer's TMS, payroll, identity provider, POS), not a competitor ...
INTEGRATION_WORDS = re.compile(
    r"\b(integrat\w*|sync\w*|connect\w*|plugs? into|exports?|imports?|API|SSO|single sign-on|log ?in|"
    r"identity provider|push\w* (?:data )?(?:in)?to|pull\w* (?:data )?from)\b|連携|同期|取り込|インポート|エクスポート|API|接続|ログイン",
    re.IGNORECASE,
)
#: ... unless one of its sentences weighs it against the seller's product.
RIVAL_WORDS = re.compile(
    r"\b(instead|replac\w*|switch\w*|compar\w*|alternatives?|competitors?|also (?:looking|considering)|looking at|"
    r"look at|evaluat\w*|vs\.?|versus|demo\w*|quoted?|quotes|cheaper|lower|win against)\b"
    r"|比較|他社|乗り換え|競合|相見積|検討|代わり|見積",
    re.IGNORECASE,
)


class CompetitorOut(_Out):
    name: str
    context: str = ""
    seg: int = -1


class CompetitorsOut(_Out):
    competitors: list[CompetitorOut] = _lim(6)


#: What the seller calls their own: 「弊社のゲンバノート」, "our TitanServe dispatch board".
_OWN = re.compile(r"(?:弊社|当社|私ども|わたくしども|うち)の\s*|\bour\s+", re.IGNORECASE)


def _sellers_own(run: PassRun, people: PeopleResult) -> set[str]:
    """Names the seller's side says as their own ("弊社のX", "our X"): their products, never a
    competitor. Only the seller's lines count (a customer's 「弊社のX」 is a system they use)."""
    sellers = {label for label, name in people.speakers.items() if any(p.name == name and p.side == "seller" for p in people.participants)}
    own: set[str] = set()
    for sid, text in run.texts.items():
        if run.speakers.get(sid, "") not in sellers:
            continue
        said = prefilter.cue_text(text)
        for m in _OWN.finditer(said):
            rest = said[m.end() :]
            own.update(n for n in prefilter.candidate_names({0: rest[:40]}, [0]) if rest.startswith(n))
    return own


def _integration_only(name: str, texts: dict[int, str]) -> bool:
    """True when ``name`` is said in a sentence about connecting to it and never in one that
    weighs it against the seller ("push data into McLeod", 「給与奉行とはCSVで連携」)."""
    return _only_integrated([sent for text in texts.values() if name in text for sent in sentences(text) if name in sent])


def _only_integrated(said: list[str]) -> bool:
    """Whether the sentences a name is said in speak of connecting to it and never weigh it
    against the seller."""
    return any(INTEGRATION_WORDS.search(s) for s in said) and not any(RIVAL_WORDS.search(s) for s in said)


def competitors_pass(run: PassRun, people: PeopleResult) -> list[Competitor]:
    """Competitors among the names said near competitor cues. A name the words put right after
    a verb of using, weighing or leaving ("also looking at Docebo", "a quote from Samsara",
    「ANDPADさんと比較検討中」) is one by rule; the model picks among the other names of each
    window, in that window's prompt. (Asked to label every name rival / integration / other, the
    1.5B model copied its example's labels in order, and named Ohio a rival: dropped.) In text
    without capitals the model names them as said (see OPEN_NAMES)."""
    cue_ids = prefilter.select(run.texts, "competitors", run.language)
    near = sorted({j for i in cue_ids for j in (i - 1, i, i + 1) if j in run.texts})
    exclude = [p.name for p in people.participants] + [people.seller_company, people.account.name]
    exclude += [w for p in people.participants for w in p.name.split()]

    own = _sellers_own(run, people)
    if own:
        run.info["sellers_own_products"] = sorted(own)

    def candidates(segment_ids: list[int]) -> list[str]:
        names = [
            n
            for n in prefilter.candidate_names(run.texts, segment_ids, exclude)
            if not any(x and _overlaps(n, x) for x in (people.seller_company, people.account.name)) and n not in own
        ]
        return [n for n in names if not _integration_only(n, run.texts)]

    every = prefilter.candidate_names(run.texts, near, exclude)
    integrations = [n for n in every if _integration_only(n, run.texts)]
    if integrations:
        run.info["integrations_not_competitors"] = integrations
    # Text without capitals (a recognizer's lowercase output) shows no names: there the model
    # names them as said, in the windows with competitor cues, and the words check its answer.
    uncased = prefilter.uncased(run.texts.values())
    seller = people.seller_company or ("不明" if run.ja else "unknown")
    result: list[Competitor] = []
    seen: set[str] = set()

    def keep(name: str, context: str, seg: int) -> None:
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            result.append(Competitor(name=name, context=context[:TEXT_MAX], evidence=run.evidence(seg, name)))

    asks: list[tuple[Window, list[str]]] = []
    by_rule: list[str] = []
    for window in run.candidate_windows():
        cued = [i for i in near if i in window.own]
        names = candidates(cued)[:MAX_NAMES]
        for name in names:
            found = _rival_said(name, {i: run.texts[i] for i in cued}, run.ja)
            if found is not None:
                by_rule.append(name)
                keep(name, found[1], found[0])
        names = [n for n in names if n not in by_rule]
        if names or (uncased and cued):
            asks.append((window, names))
    run.info["competitor_candidates"] = list(dict.fromkeys(by_rule + [n for _, names in asks for n in names]))
    run.info["competitors_by_rule"] = by_rule
    if not asks:
        run.statuses["competitors"] = "rules" if by_rule else "skipped"
        return result
    sep = "、" if run.ja else ", "
    excluded = [x for x in exclude if x]
    if uncased:
        run.info["competitor_names_open"] = True
    for window, names in asks:
        listed = sep.join(names + ([OPEN_NAMES["ja" if run.ja else "en"]] if uncased else []))
        question = run.prompts.questions["competitors"].replace("{candidates}", listed).replace("{seller}", seller)
        schema = _schema(CompetitorsOut) if uncased else _schema(CompetitorsOut, {("competitors", "[]", "name"): names})
        out: CompetitorsOut | None = run.ask("competitors", question, CompetitorsOut, schema, window)
        window_texts = {i: run.texts[i] for i in window.ids if i in run.texts}
        for c in out.competitors if out is not None else []:
            name = c.name.strip()
            if name in names or (uncased and _open_name_ok(name, window_texts, near, excluded, run.texts)):
                keep(name, c.context, c.seg)
    return result


#: Verbs of using, weighing or leaving a product, said right before its name ("also looking at
#: Docebo", "a quote from Samsara", "we're on Staff Loop", "switching from X").
_RIVAL_BEFORE = (
    r"(?:using|use|used|uses|on|looking at|look at|looked at|considering|evaluating|evaluated|trialing|trialling|"
    r"switch(?:ing|ed)? (?:from|to)|moving (?:off|from|to)|coming from|replac(?:e|ing)|instead of|compared? (?:to|with)|"
    r"comparing|versus|vs\.?|renew(?:ing)?|leaving|talking to|speaking with|quote from|demo from|proposal from|"
    r"deck from|brochure from|materials from|"
    r"pricing from|contract with|went with|going with|go with)"
)
#: ... or right after it ("Samsara's quote", "Tradepoint is three ninety-nine").
_RIVAL_AFTER = r"(?:'s)?\s+(?:\w+\s+){0,2}?(?:quote|quoted|demo|proposal|pricing|contract|renewal|came in|trial)\b"
#: 「ANDPADさんと比較検討中」, 「ケアダイアリーさんからも見積もりを」, 「ミツワ電機さんのを使って」.
_JA_RIVAL_AFTER = (
    r"(?:さん|様|社)?(?:の[^。、]{0,8})?(?:と|を|も|から|で|に|は)?[^。]{0,6}?"
    r"(?:比較|検討|使って|使用|利用して|導入して|見積|乗り換え|相見積|契約して|資料|提案|デモ)"
)


def _rival_said(name: str, texts: dict[int, str], ja: bool) -> tuple[int, str] | None:
    """(segment, sentence) of the first sentence where the words make ``name`` a product the
    customer uses, weighs or leaves, or None."""
    n = re.escape(name)
    if ja:
        pattern = re.compile(n + _JA_RIVAL_AFTER)
    else:
        pattern = re.compile(rf"\b{_RIVAL_BEFORE}\s+(?:\w+\s+){{0,2}}?{n}\b|\b{n}{_RIVAL_AFTER}", re.IGNORECASE)
    for sid, text in texts.items():
        for sent in sentences(text):
            if name in sent and pattern.search(prefilter.cue_text(sent)):
                return sid, sent
    return None


#: Appended to the candidate list when names are open (lowercase text).
OPEN_NAMES = {
    "en": "(the text has no capitals: also any other product or company name, as said)",
    "ja": "（ほかの製品名・会社名も、文字起こしの表記のまま）",
}


def _open_name_ok(name: str, window_texts: dict[int, str], near: list[int], excluded: list[str], texts: dict[int, str]) -> bool:
    """A name the model wrote itself: said in the window, in a line near a competitor cue, at
    most four words, not a participant, the seller or the account, and not only a system the
    product connects to."""
    key = normalize(name)
    if len(key) < 3 or len(name.split()) > 4:
        return False
    said_in = [i for i, t in window_texts.items() if key in normalize(t)]
    if not said_in or not any(i in near for i in said_in):
        return False
    if any(_overlaps(name, x) or normalize(x) == key for x in excluded):
        return False
    forms = [t for t in texts.values() if key in normalize(t)]
    return not _integration_only_norm(key, forms)


def _integration_only_norm(key: str, texts: list[str]) -> bool:
    """:func:`_integration_only` for a name compared in normalised form (lowercase text)."""
    return _only_integrated([sent for text in texts for sent in sentences(text) if key in normalize(sent)])
