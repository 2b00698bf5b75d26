"""The import contract of docs/architecture.md, read from the code's own imports with ``ast``.

Layers, bottom to top: core (data shapes, settings, the meeting folder, the runner), stages (one
module or package per stage, over the core), the stage registry (``meeting_notes.stages``), the
drivers (CLIs, the Prefect flows). A module imports only its own layer or lower ones; no two
modules import each other, directly or round a circle, counting imports inside functions too.
An import inside a function is allowed only to defer a heavy library (torch, pyannote, Prefect),
and says so in a comment on the line.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("meeting_notes", "flows")

CORE = {
    "meeting_notes",
    "meeting_notes.atomic",
    "meeting_notes.clock",
    "meeting_notes.context",
    "meeting_notes.errors",
    "meeting_notes.hashing",
    "meeting_notes.introductions",
    "meeting_notes.leases",
    "meeting_notes.markdown",
    "meeting_notes.model_registry",
    "meeting_notes.process_defaults",
    "meeting_notes.runner",
    "meeting_notes.schema",
    "meeting_notes.settings",
    "meeting_notes.sidecar",
    "meeting_notes.speaker_map",
    "meeting_notes.workspace",
}
DRIVERS = {
    "meeting_notes.cli",
    "meeting_notes.crm.cli",
    "meeting_notes.forget",
    "meeting_notes.inbox",
    "meeting_notes.orchestration_cli",
    "meeting_notes.pipeline",
    "meeting_notes.progress",
    "meeting_notes.relabel",
    "meeting_notes.speakers_cli",
}
LAYERS = ("core", "stages", "registry", "drivers")
#: modules that may be imported inside a function (their import costs seconds: torch, pyannote, Prefect)
HEAVY = ("meeting_notes.diarize", "meeting_notes.campplus", "meeting_notes.onnx_models", "flows")
MAX_LINES = 700


def layer(module: str) -> str:
    if module in CORE or module.startswith("meeting_notes.settings."):
        return "core"
    if module in DRIVERS or module == "flows" or module.startswith("flows."):
        return "drivers"
    if module == "meeting_notes.stages" or module.startswith("meeting_notes.stages."):
        return "registry"
    return "stages"


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    in_function: bool
    text: str


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _resolve(name: str, path: Path, node: ast.ImportFrom | ast.Import, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        bases = [a.name for a in node.names]
    else:
        if node.level:
            package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                package = package.rsplit(".", 1)[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        bases = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    for target in bases:
        while target and target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != name:
            yield target


def _walk(name: str, path: Path, node: ast.AST, in_function: bool, known: dict[str, Path], lines: list[str]) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _resolve(name, path, child, known):
                yield Import(name, target, child.lineno, inside, lines[child.lineno - 1])
        yield from _walk(name, path, child, inside, known, lines)


def project_imports() -> list[Import]:
    """Every import of a project module by a project module, at module level or inside a function."""
    known = modules()
    out = []
    for name, path in known.items():
        source = path.read_text(encoding="utf-8")
        out.extend(_walk(name, path, ast.parse(source), False, known, source.splitlines()))
    return out


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{i.source} ({layer(i.source)}) imports {i.target} ({layer(i.target)}) at line {i.line}"
        for i in project_imports()
        if LAYERS.index(layer(i.target)) > LAYERS.index(layer(i.source))
    ]
    assert upward == []


#: The stage modules that use another stage's module, each for a reason; a new edge fails
#: :func:`test_a_stage_imports_core_its_own_package_and_only_the_named_other_stages` until it is
#: added here (and, if it is real, to docs/architecture.md).
STAGE_FAMILIES = {
    "meeting_notes.campplus": "diarize",
    "meeting_notes.onnx_models": "diarize",
    "meeting_notes.speaker_clustering": "diarize",
}
CROSS_STAGE = {
    ("meeting_notes.asr", "meeting_notes.audio"): "decoding and silence checks of the recording",
    ("meeting_notes.diarize", "meeting_notes.audio"): "the memory-mapped recording's pages",
    ("meeting_notes.speakers", "meeting_notes.audio"): "enrollment clips are decoded like recordings",
    ("meeting_notes.speakers", "meeting_notes.campplus"): "the voice embedding model",
    ("meeting_notes.speakers", "meeting_notes.diarize"): "an enrollment clip is diarized to keep its main voice",
    ("meeting_notes.speakers", "meeting_notes.analytics"): "the speaker labels analytics shows",
    ("meeting_notes.report", "meeting_notes.analytics"): "the page renders the analytics model",
    ("meeting_notes.crm.inputs", "meeting_notes.notes.schema"): "the CRM delivers the notes model",
    ("meeting_notes.crm.mapping", "meeting_notes.notes.schema"): "the CRM delivers the notes model",
    ("meeting_notes.crm.mapping", "meeting_notes.notes.render"): "the CRM description is the notes' markdown",
}


def _family(module: str) -> str:
    if module in STAGE_FAMILIES:
        return STAGE_FAMILIES[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else module


def test_a_stage_imports_core_its_own_package_and_only_the_named_other_stages() -> None:
    edges = {
        (i.source, i.target)
        for i in project_imports()
        if layer(i.source) == layer(i.target) == "stages" and _family(i.source) != _family(i.target)
    }
    assert sorted(edges - set(CROSS_STAGE)) == []
    assert sorted(set(CROSS_STAGE) - edges) == []  # an entry no longer needed goes


def test_no_stage_imports_the_runner_or_a_driver() -> None:
    """A stage module is plain functions over data: how it is run, cached and recorded belongs to
    its adapter in meeting_notes/stages/."""
    wrong = [
        f"{i.source} imports {i.target} at line {i.line}"
        for i in project_imports()
        if layer(i.source) == "stages" and i.target == "meeting_notes.runner"
    ]
    assert wrong == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_even_inside_functions() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in project_imports():
        edges[i.source].add(i.target)
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_only_defer_a_heavy_library_and_say_so() -> None:
    local = [i for i in project_imports() if i.in_function]
    wrong = [
        f"{i.source}:{i.line}: {i.text.strip()}"
        for i in local
        if not i.target.startswith(HEAVY) or "# deferred:" not in i.text
    ]
    assert wrong == []
    assert len(local) <= 10, [f"{i.source}:{i.line}" for i in local]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_700_lines(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_has_a_layer_and_the_registry_lists_every_adapter() -> None:
    """Adding a stage is one module in meeting_notes/stages/ plus one registry entry: every
    stage adapter module is used by the registry."""
    from meeting_notes.stages import STAGES

    adapters = {s.run.__module__ for s in STAGES}
    helpers = {"meeting_notes.stages.lifecycle", "meeting_notes.stages.waveform"}
    in_package = {m for m in modules() if m.startswith("meeting_notes.stages.")}
    assert in_package - helpers == adapters
    for spec in STAGES:
        assert set(spec.upstream) <= {s.name for s in STAGES}, spec.name
        assert all(
            [s.name for s in STAGES].index(up) < [s.name for s in STAGES].index(spec.name) for up in spec.upstream
        ), f"{spec.name} runs before a stage it reads"
