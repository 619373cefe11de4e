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
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .bpmn_templates import APPROVAL_ROLES, NOT_APPROVAL_STEPS
from .expressions import RestrictedScriptEngine, UnsafeExpression, check_expression

SCRIPT_ENGINE = RestrictedScriptEngine()
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


@functools.lru_cache(maxsize=256)
def _spec(xml: str):
    parser = _parser()
    parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename="process.bpmn")
    process_ids = parser.get_process_ids()
    if len(process_ids) != 1:
        raise ProcessInvalid([f"BPMN 文件须恰好包含一个可执行流程（当前 {len(process_ids)} 个）。"])
    pid = process_ids[0]
    spec, subs = parser.get_spec(pid), parser.get_subprocess_specs(pid)
    checksum = hashlib.sha256(xml.encode()).hexdigest()
    spec.yiwang_checksum = checksum  # ``dump`` names the process by it
    _SPECS_BY_CHECKSUM.setdefault(checksum, (spec, subs))
    return pid, spec, subs


def _spec_by_checksum(checksum: str) -> tuple[Any, dict]:
    found = _SPECS_BY_CHECKSUM.get(checksum)
    if found is None:
        xml = xml_for_checksum(checksum) if xml_for_checksum is not None else None
        if xml is None:
            raise ProcessInvalid([f"找不到流程定义（{checksum[:12]}）。"])
        _pid, spec, subs = _spec(xml)
        found = _SPECS_BY_CHECKSUM.get(checksum) or (spec, subs)
    return found


def _steps(spec) -> list[UserStep]:
    out = []
    for ts in spec.task_specs.values():
        if isinstance(ts, UserTaskMixin):
            props = (ts.extensions or {}).get("properties", {})
            decisions = [d for d in (props.get("decisions") or "").split(",") if d]
            out.append(UserStep(ts.name, ts.bpmn_name or ts.name, props.get("role", ""), decisions))
    return sorted(out, key=lambda s: s.spec_name)


def parse(xml: str) -> ParsedProcess:
    """Parse and check a BPMN document; raise ProcessInvalid with every problem found."""
    if len(xml.encode()) > MAX_BPMN_BYTES:
        raise ProcessInvalid([f"BPMN 文件过大（上限 {MAX_BPMN_BYTES // 1024} KB）。"])
    try:
        # Refuse DTDs and entities before the parser sees them (billion laughs, XXE).
        if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
            raise ProcessInvalid(["BPMN 文件不得包含 DOCTYPE 或实体声明。"])
        pid, spec, _subs = _spec(xml)
    except ProcessInvalid:
        raise
    except Exception as exc:  # SpiffWorkflow raises many kinds; the admin needs the text
        raise ProcessInvalid([f"BPMN 无法解析：{exc}"]) from exc
    problems = []
    steps = _steps(spec)
    if not steps:
        problems.append("流程中没有任何人工环节（userTask）。")
    for s in steps:
        if not s.role:
            problems.append(f"环节“{s.label}”（{s.spec_name}）缺少 role 属性。")
    for ts in spec.task_specs.values():
        cls = type(ts).__name__
        if "Script" in cls or "Service" in cls:
            problems.append(f"不允许脚本或服务任务：{ts.bpmn_name or ts.name}。")
        for cond, _target in getattr(ts, "cond_task_specs", []) or []:
            expression = cond.args[0] if cond is not None and getattr(cond, "args", None) else cond
            try:
                if expression:
                    check_expression(str(expression))
            except (UnsafeExpression, SyntaxError):
                problems.append(f"网关条件不被允许：{expression}")
    approval = sum(1 for s in steps if s.role in APPROVAL_ROLES and s.spec_name not in NOT_APPROVAL_STEPS)
    if approval > 5:
        problems.append(f"审批环节不得超过5个（当前为{approval}个）。")
    if problems:
        raise ProcessInvalid(problems)
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "description", None) or pid
    return ParsedProcess(pid, name, steps, approval, hashlib.sha256(xml.encode()).hexdigest())


def new_workflow(xml: str, data: dict[str, Any] | None = None) -> BpmnWorkflow:
    _pid, spec, subs = _spec(xml)
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
    return [t for t in wf.get_tasks(state=TaskState.READY) if isinstance(t.task_spec, UserTaskMixin)]


def step_of(task) -> UserStep:
    props = (task.task_spec.extensions or {}).get("properties", {})
    decisions = [d for d in (props.get("decisions") or "").split(",") if d]
    return UserStep(
        task.task_spec.name, task.task_spec.bpmn_name or task.task_spec.name, props.get("role", ""), decisions
    )


def complete(wf: BpmnWorkflow, task_uuid, data: dict[str, Any]) -> None:
    task = wf.get_task_from_id(task_uuid)
    if task is None or task.state != TaskState.READY:
        raise ValueError("task is not ready")
    task.data.update(data)
    task.run()
    wf.do_engine_steps()
