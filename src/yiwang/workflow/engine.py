"""The SpiffWorkflow adapter: parse BPMN, start, step and (de)serialize a process.

Nothing here touches the database; ``services`` does, under a row lock per case.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask as NoneTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from . import bpmn_model
from .expressions import RestrictedScriptEngine

SCRIPT_ENGINE = RestrictedScriptEngine()
# The task kinds SpiffWorkflow leaves for a person to complete (``manual``): each is a step with
# an inbox row. An untyped ``task`` and a ``manualTask`` wait like a ``userTask`` does.
HUMAN_TASKS = (UserTaskMixin, ManualTaskMixin, NoneTaskMixin)
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
MAX_BPMN_BYTES = 512 * 1024
# Where ``load`` finds the BPMN of a state that names its process by checksum (``dump``) and
# whose spec this process has not parsed yet: set by ``services`` (this module reads no table).
xml_for_checksum: Callable[[str], str | None] | None = None


class _SpecByReference(BpmnWorkflowConverter):
    """The workflow's converter, which can leave the process spec out of the state.

    SpiffWorkflow writes the whole spec (about 8 KB of the 12 KB of a promise item's state) into
    every serialized workflow, and restoring it is most of the cost of a load. A process version
    never changes (a new upload is a new version), so the state names it by the checksum of its
    BPMN instead, and a load takes the spec parsed once per process (``_spec``). States written
    with the spec (before this, or of a spec not parsed here) are read as before."""

    def to_dict(self, workflow, spec_ref: str | None = None):
        if spec_ref is None:
            return super().to_dict(workflow)
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_ref"] = spec_ref
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        if "spec" in dct:
            return super().from_dict(dct)
        spec, subprocess_specs = _spec_by_checksum(dct.pop("spec_ref"))
        # As BpmnWorkflowConverter.from_dict, with the spec given instead of restored.
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


SERIALIZER = BpmnWorkflowSerializer(
    BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: _SpecByReference})
)
_SPECS_BY_CHECKSUM: dict[str, tuple[Any, dict]] = {}


class ProcessInvalid(ValueError):
    """The BPMN cannot be used; ``messages`` are for the administrator (Chinese)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class UserStep:
    spec_name: str
    label: str
    role: str
    decisions: list[str]


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    name: str
    steps: list[UserStep]
    approval_steps: int
    checksum: str


def _parser() -> SpiffBpmnParser:
    return SpiffBpmnParser()


def _root(xml: str):
    return etree.fromstring(xml.encode(), parser=_XML_PARSER)


@functools.lru_cache(maxsize=256)
def _spec(xml: str):
    root = _root(xml)
    model = bpmn_model.read(root)
    if not model.process_id:
        raise ProcessInvalid(model.problems)
    # bpmn-js marks what it draws not executable by default; SpiffWorkflow will not run such a
    # process. The mark is the modeller's default, not the administrator's choice: clear it.
    for process in root.iter(f"{{{bpmn_model.BPMN}}}process"):
        process.set("isExecutable", "true")
    parser = _parser()
    parser.add_bpmn_xml(root, filename="process.bpmn")
    pid = model.process_id
    spec, subs = parser.get_spec(pid), parser.get_subprocess_specs(pid)
    for each in (spec, *subs.values()):
        for ts in each.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None) or ts.name
            step = model.steps.get(bpmn_id)
            if bpmn_id in model.passed_through and isinstance(ts, (ManualTaskMixin, NoneTaskMixin)):
                ts.manual = False  # a task given no role: the engine completes it, as Camunda does
            if step is not None:
                # The role read from the whole document (its own property, the engine's
                # assignment attributes, a lane or the subprocess around it): ``step_of``.
                ts.yiwang_role = step.role
            _quote_iso_timer(ts)
    checksum = hashlib.sha256(xml.encode()).hexdigest()
    spec.yiwang_checksum = checksum  # ``dump`` names the process by it
    _SPECS_BY_CHECKSUM.setdefault(checksum, (spec, subs))
    return pid, spec, subs, model


def _quote_iso_timer(ts) -> None:
    """Camunda and Flowable write a timer as bare ISO 8601 text (``PT1H``); SpiffWorkflow
    evaluates it as an expression, where it would be an unknown name. Quote it once here."""
    definition = getattr(ts, "event_definition", None)
    expression = getattr(definition, "expression", None)
    if definition is not None and isinstance(expression, str) and bpmn_model.is_iso_literal(expression):
        definition.expression = repr(expression.strip())


def _spec_by_checksum(checksum: str) -> tuple[Any, dict]:
    found = _SPECS_BY_CHECKSUM.get(checksum)
    if found is None:
        xml = xml_for_checksum(checksum) if xml_for_checksum is not None else None
        if xml is None:
            raise ProcessInvalid([f"找不到流程定义（{checksum[:12]}）。"])
        _pid, spec, subs, _model = _spec(xml)
        found = _SPECS_BY_CHECKSUM.get(checksum) or (spec, subs)
    return found


def parse(xml: str) -> ParsedProcess:
    """Parse and check a BPMN document over its whole tree (subprocesses and called processes
    included: ``bpmn_model``); raise ProcessInvalid with every problem found."""
    if len(xml.encode()) > MAX_BPMN_BYTES:
        raise ProcessInvalid([f"BPMN 文件过大（上限 {MAX_BPMN_BYTES // 1024} KB）。"])
    # Refuse DTDs and entities before the parser sees them (billion laughs, XXE).
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise ProcessInvalid(["BPMN 文件不得包含 DOCTYPE 或实体声明。"])
    try:
        model = bpmn_model.read(_root(xml))
    except Exception as exc:  # lxml's syntax errors: the admin needs the text
        raise ProcessInvalid([f"BPMN 无法解析：{exc}"]) from exc
    if model.problems:
        raise ProcessInvalid(model.problems)
    try:
        pid, spec, _subs, _model = _spec(xml)
    except ProcessInvalid:
        raise
    except Exception as exc:  # SpiffWorkflow raises many kinds; the admin needs the text
        raise ProcessInvalid([f"BPMN 无法解析：{exc}"]) from exc
    steps = sorted(
        (UserStep(s.element_id, s.label, s.role, s.decisions) for s in model.steps.values()),
        key=lambda s: s.spec_name,
    )
    name = model.name or getattr(spec, "bpmn_name", None) or getattr(spec, "description", None) or pid
    return ParsedProcess(pid, name, steps, model.approval_steps, hashlib.sha256(xml.encode()).hexdigest())


def outline(xml: str) -> list[tuple[UserStep, bool]]:
    """The human steps of a checked process in the order a case meets them
    (``bpmn_model.Model.walk``), each with whether a case may skip it (a side trip such as an
    inspection that leads back to the review). Read once per document: ``_spec`` is cached."""
    _pid, _spec_obj, _subs, model = _spec(xml)
    return [
        (UserStep(ident, step.label, step.role, step.decisions), ident in model.side_trips)
        for ident in model.walk
        if (step := model.steps[ident]) is not None
    ]


def new_workflow(xml: str, data: dict[str, Any] | None = None) -> BpmnWorkflow:
    _pid, spec, subs, _model = _spec(xml)
    wf = BpmnWorkflow(spec, subs, script_engine=SCRIPT_ENGINE)
    if data:
        wf.data.update(data)
        for t in wf.get_tasks(state=TaskState.READY):
            t.data.update(data)
    wf.do_engine_steps()
    return wf


def started_copies(wf: BpmnWorkflow, count: int) -> list[tuple[dict, dict[UUID, UUID]]] | None:
    """``count`` more stored states of ``wf``, a workflow just started with no data, as starting
    the same definition again would give them: its state with every task id replaced by a new
    one, without running the engine again (a bundle's branches all start the same process; the
    start and the dump were most of the acceptance's engine time). Each state comes with the map
    from ``wf``'s task ids to its own. None when ``wf`` has subprocesses (start each instead)."""
    if wf.subprocesses:
        return None
    text = json.dumps(dump(wf))
    copies = []
    for _ in range(count):
        mapping = {old: uuid4() for old in wf.tasks}
        copied = text
        for old, new in mapping.items():  # task ids are the only UUIDs in a state
            copied = copied.replace(str(old), str(new))
        copies.append((json.loads(copied), mapping))
    return copies


def load(state: dict) -> BpmnWorkflow:
    wf = SERIALIZER.from_dict(state)
    wf.script_engine = SCRIPT_ENGINE
    return wf


def dump(wf: BpmnWorkflow) -> dict:
    """The state to store: without the spec when it was parsed here from a BPMN document (the
    state names it by checksum), with it otherwise (a spec restored from an older state)."""
    # The workflow's converter called directly: the registry's ``convert`` takes no options.
    registry = SERIALIZER.registry
    to_dict = registry.convert_to_dict[registry.typenames[BpmnWorkflow]]
    return to_dict(wf, spec_ref=getattr(wf.spec, "yiwang_checksum", None))


def ready_user_tasks(wf: BpmnWorkflow):
    return [
        t
        for t in wf.get_tasks(state=TaskState.READY)
        if isinstance(t.task_spec, HUMAN_TASKS) and t.task_spec.manual
    ]


def step_of(task) -> UserStep:
    spec = task.task_spec
    props = (getattr(spec, "extensions", None) or {}).get("properties", {})
    decisions = [d for d in (props.get("decisions") or "").split(",") if d]
    # A spec restored from an old state (spec stored inside) has only its property.
    role = getattr(spec, "yiwang_role", None) or props.get("role", "")
    return UserStep(spec.name, spec.bpmn_name or spec.name, role, decisions)


def complete(wf: BpmnWorkflow, task_uuid, data: dict[str, Any]) -> None:
    task = wf.get_task_from_id(task_uuid)
    if task is None or task.state != TaskState.READY:
        raise ValueError("task is not ready")
    task.data.update(data)
    task.run()
    wf.do_engine_steps()
