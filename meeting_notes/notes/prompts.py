"""Versioned prompt files (``prompts/notes/<version>/``) per language.

A version folder holds ``system.<lang>.md`` (with a ``{skeleton}`` placeholder for
``skeleton.json``, the output shape), ``example.<lang>.json`` (one worked example: transcript
lines and the answer) and ``reduce.<lang>.md`` (the summary step of a chunked meeting). The
version id recorded in run.json and cache keys is ``notes-<version>+<sha256 of the files>``,
so an edited prompt never reuses responses cached for the old one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meeting_notes.errors import MeetingNotesError
from meeting_notes.schema import MeetingFacts

LANGUAGES = ("en", "ja")


class PromptError(MeetingNotesError):
    """A prompt version or file is missing."""


@dataclass(frozen=True)
class PromptSet:
    version: str
    language: str
    system: str
    example_transcript: str
    example_answer: dict[str, Any]
    reduce: str
    sha256: str

    @property
    def version_id(self) -> str:
        return f"notes-{self.version}+{self.sha256[:12]}"


def prompt_language(language: str | None) -> str:
    """'ja' for Japanese, 'en' for everything else."""
    return "ja" if (language or "").lower().startswith("ja") else "en"


def load_prompts(prompts_dir: Path, version: str, language: str) -> PromptSet:
    """Read one version's prompt files for ``language`` ('en' or 'ja')."""
    folder = Path(prompts_dir) / version
    lang = prompt_language(language)
    names = [f"system.{lang}.md", f"example.{lang}.json", f"reduce.{lang}.md", "skeleton.json"]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise PromptError(f"Prompt version '{version}' lacks {', '.join(missing)} in {folder}.")
    raw = {n: (folder / n).read_text(encoding="utf-8") for n in names}
    digest = hashlib.sha256("\0".join(f"{n}\0{raw[n]}" for n in names).encode("utf-8")).hexdigest()
    skeleton = json.dumps(json.loads(raw["skeleton.json"]), ensure_ascii=False)
    example = json.loads(raw[f"example.{lang}.json"])
    return PromptSet(
        version=version,
        language=lang,
        system=raw[f"system.{lang}.md"].replace("{skeleton}", skeleton).strip(),
        example_transcript="\n".join(example["transcript"]),
        example_answer=example["answer"],
        reduce=raw[f"reduce.{lang}.md"].strip(),
        sha256=digest,
    )


def meeting_header(prompts: PromptSet, facts: MeetingFacts, part: tuple[int, int] | None = None) -> str:
    """The facts known before the meeting (from the sidecar) and the chunk position."""
    ja = prompts.language == "ja"
    lines = []
    labelled = (
        ("会議名" if ja else "Meeting title", facts.title),
        ("顧客企業" if ja else "Customer account", facts.account),
        ("日付" if ja else "Date", facts.date_text()),
    )
    lines += [f"{label}: {value}" for label, value in labelled if value]
    if facts.participants:
        lines.append("参加者:" if ja else "Participants:")
        lines += ["- " + ", ".join(v for v in (p.name, p.role, p.company) if v) for p in facts.participants]
    if part is not None and part[1] > 1:
        lines.append(
            f"（長い商談の一部 {part[0]}/{part[1]}：この部分の内容だけを抽出）"
            if ja
            else f"(Part {part[0]} of {part[1]} of a long meeting: extract from this part only.)"
        )
    return "\n".join(lines)


def extraction_messages(
    prompts: PromptSet, transcript_text: str, facts: MeetingFacts, part: tuple[int, int] | None = None
) -> list[dict[str, str]]:
    """System rules, one worked example, then the meeting."""
    intro = "文字起こし:" if prompts.language == "ja" else "Transcript:"
    header = meeting_header(prompts, facts, part)
    user = (header + "\n\n" if header else "") + f"{intro}\n{transcript_text}"
    return [
        {"role": "system", "content": prompts.system},
        {"role": "user", "content": f"{intro}\n{prompts.example_transcript}"},
        {"role": "assistant", "content": json.dumps(prompts.example_answer, ensure_ascii=False)},
        {"role": "user", "content": user},
    ]


def reduce_messages(prompts: PromptSet, partial_notes: str, facts: MeetingFacts) -> list[dict[str, str]]:
    """The summary step over the merged notes of all chunks."""
    header = meeting_header(prompts, facts)
    label = "メモ:" if prompts.language == "ja" else "Notes:"
    return [
        {"role": "system", "content": prompts.reduce},
        {"role": "user", "content": (header + "\n\n" if header else "") + f"{label}\n{partial_notes}"},
    ]


PASS_FILES = ("people", "money", "competitors", "next_steps", "rest")
"""The focused passes, in the order they run (prompt files ``<pass>.<lang>.md``)."""


@dataclass(frozen=True)
class PassPrompts:
    """A passes version: the shared system text and one question per pass."""

    version: str
    language: str
    system: str
    questions: dict[str, str]
    sha256: str

    @property
    def version_id(self) -> str:
        return f"notes-{self.version}+{self.sha256[:12]}"


def load_pass_prompts(prompts_dir: Path, version: str, language: str) -> PassPrompts:
    """Read one passes version (``system.<lang>.md`` + ``<pass>.<lang>.md``) for ``language``."""
    folder = Path(prompts_dir) / version
    lang = prompt_language(language)
    names = [f"system.{lang}.md"] + [f"{p}.{lang}.md" for p in PASS_FILES]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise PromptError(f"Prompt version '{version}' lacks {', '.join(missing)} in {folder}.")
    raw = {n: (folder / n).read_text(encoding="utf-8") for n in names}
    digest = hashlib.sha256("\0".join(f"{n}\0{raw[n]}" for n in names).encode("utf-8")).hexdigest()
    return PassPrompts(
        version=version,
        language=lang,
        system=raw[f"system.{lang}.md"].strip(),
        questions={p: raw[f"{p}.{lang}.md"].strip() for p in PASS_FILES},
        sha256=digest,
    )


def pass_messages(prompts: PassPrompts, shared_user: str, question: str) -> list[dict[str, str]]:
    """The shared part first (system text, meeting header and transcript: identical for every
    pass, so the server's prompt cache keeps it), then the pass's question."""
    return [
        {"role": "system", "content": prompts.system},
        {"role": "user", "content": f"{shared_user}\n\n{question}"},
    ]


def shared_user_text(
    language: str, transcript_text: str, facts: MeetingFacts, part: tuple[int, int] | None = None
) -> str:
    """The meeting header and transcript, the part every pass shares; ``part`` = (k, n) when the
    transcript is the k-th of n windows of a long meeting."""
    ja = prompt_language(language) == "ja"
    labelled = (("会議名" if ja else "Meeting title", facts.title), ("顧客企業" if ja else "Customer account", facts.account))
    lines = [f"{label}: {value}" for label, value in labelled if value]
    intro = "文字起こし:" if ja else "Transcript:"
    if part is not None:
        k, n = part
        intro = f"文字起こし（長い商談の {k}/{n} 部分）:" if ja else f"Transcript (part {k} of {n} of a long meeting):"
    return ("\n".join(lines) + "\n\n" if lines else "") + f"{intro}\n{transcript_text}"
