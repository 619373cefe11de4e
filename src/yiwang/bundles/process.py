"""The BPMN 2.0 processes of a bundle, generated from its definition.

Umbrella (the bundle item's case, bound to the bundle item; key ``bundle_<code>``):

    start → accept ─┬─ refuse → end_refused
                    ├─ correction → applicant_correction → accept
                    └─ accept → split (parallel) → branch_<member id> … → join (parallel)
                                → decide (lead department head) → deliver → end

Each ``branch_<member id>`` is a user task with the role ``branch``, which no staff inbox shows
(``workflow.selectors.STAFF_ROLES_BY_STEP_ROLE`` does not map it): the system completes it when
the branch case is decided (decision ``approved``/``denied``), or at acceptance when the member
does not apply to this application (``skipped``). The parallel join opens the unified decision
once every branch task is complete.

Branch (every branch case; keys ``bundle_branch`` and ``bundle_branch_second_review``):

    start → review ─┬─ pass → [second_review →] decide ─┬─ approve/deny → end
                    ├─ inspection → inspection → review  └─ return → review
                    └─ correction → bundle_correction → review

``bundle_correction`` (role ``bundle_correction``, no inbox either) waits while the applicant
answers the umbrella's combined correction request; the system completes it when they have.
A branch has no delivery step: its result is delivered with the umbrella's.

One-step branch (key ``bundle_branch_opinion``, for bundles with ``one_step_branches``, as
多评合一 where each department gives its assessment opinion):

    start → decide (department head: review and opinion) ─┬─ approve/deny → end
                                                          └─ correction → bundle_correction → decide

Both are uploaded through ``workflow.services.upload_definition`` like any administrator's file,
so they pass the same checks (no scripts, restricted conditions, at most 5 approval steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

BRANCH_ROLE = "branch"
CORRECTION_ROLE = "bundle_correction"
BRANCH_DECISIONS = ["approved", "denied", "skipped"]

_NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)
_SIZE = {"task": (110, 70), "exclusive": (50, 50), "parallel": (50, 50), "start": (36, 36), "end": (36, 36)}


@dataclass
class Node:
    id: str
    kind: str  # task | exclusive | parallel | start | end
    name: str = ""
    role: str = ""
    decisions: list[str] = field(default_factory=list)
    pos: tuple[int, int] = (0, 0)  # column, row


@dataclass
class Flow:
    source: str
    target: str
    condition: str = ""
    label: str = ""


def _d(*decisions: str) -> str:
    return " or ".join(f'decision == "{d}"' for d in decisions)


def _xml(process_id: str, name: str, nodes: list[Node], flows: list[Flow]) -> str:
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for i, f in enumerate(flows):
        outgoing.setdefault(f.source, []).append(f"flow_{i}")
        incoming.setdefault(f.target, []).append(f"flow_{i}")

    def links(node: str) -> str:
        return "".join(f"<bpmn:incoming>{x}</bpmn:incoming>" for x in incoming.get(node, [])) + "".join(
            f"<bpmn:outgoing>{x}</bpmn:outgoing>" for x in outgoing.get(node, [])
        )

    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {_NS} id="defs_{process_id}" '
        'targetNamespace="https://yiwang.example/bpmn">',
        f'<bpmn:process id={quoteattr(process_id)} name={quoteattr(name)} isExecutable="true">',
    ]
    for n in nodes:
        if n.kind == "start":
            parts.append(
                f"<bpmn:startEvent id={quoteattr(n.id)} name={quoteattr(n.name)}>{links(n.id)}</bpmn:startEvent>"
            )
        elif n.kind == "end":
            parts.append(
                f"<bpmn:endEvent id={quoteattr(n.id)} name={quoteattr(n.name)}>{links(n.id)}</bpmn:endEvent>"
            )
        elif n.kind == "exclusive":
            parts.append(f"<bpmn:exclusiveGateway id={quoteattr(n.id)}>{links(n.id)}</bpmn:exclusiveGateway>")
        elif n.kind == "parallel":
            parts.append(f"<bpmn:parallelGateway id={quoteattr(n.id)}>{links(n.id)}</bpmn:parallelGateway>")
        else:
            props = (
                "<bpmn:extensionElements><spiffworkflow:properties>"
                f'<spiffworkflow:property name="role" value={quoteattr(n.role)} />'
                f'<spiffworkflow:property name="decisions" value={quoteattr(",".join(n.decisions))} />'
                "</spiffworkflow:properties></bpmn:extensionElements>"
            )
            parts.append(
                f"<bpmn:userTask id={quoteattr(n.id)} name={quoteattr(n.name)}>{props}{links(n.id)}</bpmn:userTask>"
            )
    for i, f in enumerate(flows):
        cond = (
            '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{escape(f.condition)}</bpmn:conditionExpression>'
            if f.condition
            else ""
        )
        label = f" name={quoteattr(f.label)}" if f.label else ""
        parts.append(
            f'<bpmn:sequenceFlow id="flow_{i}" sourceRef="{f.source}" targetRef="{f.target}"{label}>{cond}</bpmn:sequenceFlow>'
        )
    parts.append("</bpmn:process>")
    # Diagram: a grid, so that bpmn-js can draw the file an administrator downloads.
    boxes = {}
    for n in nodes:
        w, h = _SIZE[n.kind]
        cx, cy = 80 + n.pos[0] * 160, 120 + n.pos[1] * 110
        boxes[n.id] = (cx - w // 2, cy - h // 2, w, h)
    parts.append(
        f'<bpmndi:BPMNDiagram id="diagram_{process_id}"><bpmndi:BPMNPlane id="plane_{process_id}" bpmnElement="{process_id}">'
    )
    for n in nodes:
        x, y, w, h = boxes[n.id]
        marker = ' isMarkerVisible="true"' if n.kind == "exclusive" else ""
        parts.append(
            f'<bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{marker}><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" /></bpmndi:BPMNShape>'
        )
    for i, f in enumerate(flows):
        sx, sy, sw, sh = boxes[f.source]
        tx, ty, tw, th = boxes[f.target]
        a, b = (sx + sw // 2, sy + sh // 2), (tx + tw // 2, ty + th // 2)
        parts.append(
            f'<bpmndi:BPMNEdge id="flow_{i}_di" bpmnElement="flow_{i}"><di:waypoint x="{a[0]}" y="{a[1]}" />'
            f'<di:waypoint x="{b[0]}" y="{b[1]}" /></bpmndi:BPMNEdge>'
        )
    parts.append("</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>")
    return "\n".join(parts)


def branch_step(member_id: int) -> str:
    return f"branch_{member_id}"


def umbrella_bpmn(code: str, name: str, branches: list[tuple[int, str]]) -> str:
    """The umbrella process of a bundle; ``branches`` = [(member id, label)] in order."""
    n = len(branches)
    mid = max(n - 1, 0) / 2
    row = int(mid)
    nodes = [
        Node("start", "start", "申请提交", pos=(0, row)),
        Node("accept", "task", "统一受理", "counter_clerk", ["accept", "refuse", "correction"], (1, row)),
        Node("gw_accept", "exclusive", pos=(2, row)),
        Node("applicant_correction", "task", "申请人补正", "applicant", ["corrected"], (2, row + 1)),
        Node("end_refused", "end", "不予受理", pos=(3, row + 1)),
        Node("split", "parallel", pos=(3, row)),
    ]
    flows = [
        Flow("start", "accept"),
        Flow("accept", "gw_accept"),
        Flow("gw_accept", "split", _d("accept"), "受理"),
        Flow("gw_accept", "end_refused", _d("refuse"), "不予受理"),
        Flow("gw_accept", "applicant_correction", _d("correction"), "一次性告知补正"),
        Flow("applicant_correction", "accept"),
    ]
    for i, (member_id, label) in enumerate(branches):
        step = branch_step(member_id)
        nodes.append(Node(step, "task", label[:100], BRANCH_ROLE, BRANCH_DECISIONS, (4, i)))
        flows += [Flow("split", step), Flow(step, "join")]
    nodes += [
        Node("join", "parallel", pos=(5, row)),
        Node("decide", "task", "统一决定", "department_head", ["approve", "deny"], (6, row)),
        Node("deliver", "task", "统一送达", "counter_clerk", ["delivered"], (7, row)),
        Node("end", "end", "办结", pos=(8, row)),
    ]
    flows += [Flow("join", "decide"), Flow("decide", "deliver"), Flow("deliver", "end")]
    return _xml(f"yiwang_bundle_{code.replace('-', '_')}", f"一件事：{name}"[:100], nodes, flows)


BRANCH_TWO_STEP = "bundle_branch"
BRANCH_SECOND_REVIEW = "bundle_branch_second_review"
BRANCH_ONE_STEP = "bundle_branch_opinion"
BRANCH_KEYS = (BRANCH_TWO_STEP, BRANCH_SECOND_REVIEW, BRANCH_ONE_STEP)


def branch_bpmn(key: str = BRANCH_TWO_STEP) -> str:
    """The process a branch case runs (already accepted by the unified acceptance), by key."""
    if key == BRANCH_ONE_STEP:
        return _one_step_branch_bpmn()
    return _branch_bpmn(second_review=key == BRANCH_SECOND_REVIEW)


def _one_step_branch_bpmn() -> str:
    """多评合一: the department head reviews and gives the department's opinion (approve or deny)
    in one step, or asks for a correction that joins the umbrella's combined request."""
    nodes = [
        Node("start", "start", "统一受理后分送", pos=(0, 0)),
        Node(
            "decide", "task", "审查并出具意见", "department_head", ["approve", "deny", "correction"], (1, 0)
        ),
        Node("gw_decide", "exclusive", pos=(2, 0)),
        Node(
            "bundle_correction", "task", "等待申请人补正（合并告知）", CORRECTION_ROLE, ["corrected"], (2, 1)
        ),
        Node("end", "end", "分支办结", pos=(3, 0)),
    ]
    flows = [
        Flow("start", "decide"),
        Flow("decide", "gw_decide"),
        Flow("gw_decide", "end", _d("approve", "deny"), "准予/不予"),
        Flow("gw_decide", "bundle_correction", _d("correction"), "需补正"),
        Flow("bundle_correction", "decide"),
    ]
    return _xml(f"yiwang_{BRANCH_ONE_STEP}", "一件事分支：审查并出具意见", nodes, flows)


def _branch_bpmn(*, second_review: bool) -> str:
    nodes = [
        Node("start", "start", "统一受理后分送", pos=(0, 0)),
        Node("review", "task", "审查", "approver", ["pass", "inspection", "correction"], (1, 0)),
        Node("gw_review", "exclusive", pos=(2, 0)),
        Node("inspection", "task", "现场核查/专家评审", "approver", ["done"], (2, 1)),
        Node(
            "bundle_correction", "task", "等待申请人补正（合并告知）", CORRECTION_ROLE, ["corrected"], (2, 2)
        ),
    ]
    flows = [
        Flow("start", "review"),
        Flow("review", "gw_review"),
        Flow("gw_review", "inspection", _d("inspection"), "需现场核查"),
        Flow("inspection", "review"),
        Flow("gw_review", "bundle_correction", _d("correction"), "需补正"),
        Flow("bundle_correction", "review"),
    ]
    column = 3
    if second_review:
        nodes += [
            Node("second_review", "task", "复审", "approver", ["pass", "return"], (3, 0)),
            Node("gw_second", "exclusive", pos=(4, 0)),
        ]
        flows += [
            Flow("gw_review", "second_review", _d("pass"), "审查通过"),
            Flow("second_review", "gw_second"),
            Flow("gw_second", "decide", _d("pass"), "复审通过"),
            Flow("gw_second", "review", _d("return"), "退回审查"),
        ]
        column = 5
    else:
        flows.append(Flow("gw_review", "decide", _d("pass"), "审查通过"))
    nodes += [
        Node("decide", "task", "决定", "department_head", ["approve", "deny", "return"], (column, 0)),
        Node("gw_decide", "exclusive", pos=(column + 1, 0)),
        Node("end", "end", "分支办结", pos=(column + 2, 0)),
    ]
    flows += [
        Flow("decide", "gw_decide"),
        Flow("gw_decide", "end", _d("approve", "deny"), "准予/不予"),
        Flow("gw_decide", "review", _d("return"), "退回审查"),
    ]
    key = BRANCH_SECOND_REVIEW if second_review else BRANCH_TWO_STEP
    name = "一件事分支：审查、复审、决定" if second_review else "一件事分支：审查、决定"
    return _xml(f"yiwang_{key}", name, nodes, flows)
