"""The shipped process templates, written as data and turned into BPMN 2.0 XML with diagram
coordinates (so bpmn-js can draw them and administrators can download and edit them).

Conventions (docs/workflow.md): user task ids are the step names the cases app acts on
(accept, applicant_correction, review, second_review, inspection, decide, deliver); each carries
the StaffRole role that may do it as a ``spiffworkflow:property`` named ``role``; gateways route
on the ``decision`` variable set when a task is completed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext_lazy as _

# Step labels a person reads in the inbox and the timeline.
STEP_LABELS = {
    "accept": _("受理"),
    "applicant_correction": _("申请人补正"),
    "review": _("审查"),
    "second_review": _("复审"),
    "inspection": _("现场核查/专家评审"),
    "decide": _("决定"),
    "deliver": _("送达"),
}
# Decisions each step offers (the gateway after it routes on them).
STEP_DECISIONS = {
    "accept": ["accept", "refuse", "correction"],
    "applicant_correction": ["corrected"],
    "review": ["pass", "inspection"],
    "second_review": ["pass", "return"],
    "inspection": ["done"],
    "decide": ["approve", "deny", "return"],
    "deliver": ["delivered"],
}
STEP_ROLES = {
    "accept": "counter_clerk",
    "applicant_correction": "applicant",
    "review": "approver",
    "second_review": "approver",
    "inspection": "approver",
    "decide": "department_head",
    "deliver": "counter_clerk",
}
APPROVAL_ROLES = {"counter_clerk", "approver", "department_head"}
NOT_APPROVAL_STEPS = {"deliver"}


@dataclass
class Flow:
    source: str
    target: str
    condition: str = ""
    label: str = ""


@dataclass
class Template:
    key: str
    name: str
    steps: list[str]
    flows: list[Flow]
    gateways: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # column, row


def _d(decision: str) -> str:
    return f'decision == "{decision}"'


INSTANT = Template(
    key="instant",
    name="即办件：当场受理、当场决定",
    steps=["accept", "applicant_correction", "decide", "deliver"],
    gateways=["gw_accept", "gw_decide"],
    ends=["end_refused", "end"],
    flows=[
        Flow("start", "accept"),
        Flow("accept", "gw_accept"),
        Flow("gw_accept", "decide", _d("accept"), "受理"),
        Flow("gw_accept", "end_refused", _d("refuse"), "不予受理"),
        Flow("gw_accept", "applicant_correction", _d("correction"), "一次性告知补正"),
        Flow("applicant_correction", "accept"),
        Flow("decide", "gw_decide"),
        Flow("gw_decide", "deliver", 'decision == "approve" or decision == "deny"', "准予/不予"),
        Flow("gw_decide", "accept", _d("return"), "退回"),
        Flow("deliver", "end"),
    ],
    positions={
        "start": (0, 0),
        "accept": (1, 0),
        "gw_accept": (2, 0),
        "applicant_correction": (2, 1),
        "end_refused": (3, 1),
        "decide": (3, 0),
        "gw_decide": (4, 0),
        "deliver": (5, 0),
        "end": (6, 0),
    },
)


def _promise(*, second_review: bool) -> Template:
    """The promise item, with or without a second review between review and decision."""
    after_review = "second_review" if second_review else "decide"
    steps = ["accept", "applicant_correction", "review", "inspection"]
    flows = [
        Flow("start", "accept"),
        Flow("accept", "gw_accept"),
        Flow("gw_accept", "review", _d("accept"), "受理"),
        Flow("gw_accept", "end_refused", _d("refuse"), "不予受理"),
        Flow("gw_accept", "applicant_correction", _d("correction"), "一次性告知补正"),
        Flow("applicant_correction", "accept"),
        Flow("review", "gw_review"),
        Flow("gw_review", after_review, _d("pass"), "审查通过"),
        Flow("gw_review", "inspection", _d("inspection"), "需现场核查"),
        Flow("inspection", "review"),
    ]
    gateways = ["gw_accept", "gw_review"]
    column = 5
    positions = {
        "start": (0, 0),
        "accept": (1, 0),
        "gw_accept": (2, 0),
        "applicant_correction": (2, 1),
        "end_refused": (3, 1),
        "review": (3, 0),
        "gw_review": (4, 0),
        "inspection": (4, 1),
    }
    if second_review:
        steps.append("second_review")
        gateways.append("gw_second")
        flows += [
            Flow("second_review", "gw_second"),
            Flow("gw_second", "decide", _d("pass"), "复审通过"),
            Flow("gw_second", "review", _d("return"), "退回审查"),
        ]
        positions.update({"second_review": (5, 0), "gw_second": (6, 0)})
        column = 7
    steps += ["decide", "deliver"]
    gateways.append("gw_decide")
    flows += [
        Flow("decide", "gw_decide"),
        Flow("gw_decide", "deliver", 'decision == "approve" or decision == "deny"', "准予/不予"),
        Flow("gw_decide", "review", _d("return"), "退回审查"),
        Flow("deliver", "end"),
    ]
    positions.update(
        {
            "decide": (column, 0),
            "gw_decide": (column + 1, 0),
            "deliver": (column + 2, 0),
            "end": (column + 3, 0),
        }
    )
    return Template(
        key="promise_second_review" if second_review else "promise",
        name="承诺件：受理、审查、复审、决定"
        if second_review
        else "承诺件：受理、审查、决定（可现场核查，补正一次性告知）",
        steps=steps,
        gateways=gateways,
        ends=["end_refused", "end"],
        flows=flows,
        positions=positions,
    )


PROMISE = _promise(second_review=False)
PROMISE_SECOND_REVIEW = _promise(second_review=True)

TEMPLATES = {t.key: t for t in (INSTANT, PROMISE, PROMISE_SECOND_REVIEW)}

_NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)
_SIZE = {"task": (110, 70), "gateway": (50, 50), "event": (36, 36)}


def _kind(node: str, t: Template) -> str:
    if node in t.steps:
        return "task"
    if node in t.gateways:
        return "gateway"
    return "event"


def _box(node: str, t: Template) -> tuple[int, int, int, int]:
    col, row = t.positions[node]
    w, h = _SIZE[_kind(node, t)]
    cx, cy = 80 + col * 160, 120 + row * 140
    return cx - w // 2, cy - h // 2, w, h


def to_bpmn(t: Template) -> str:
    """BPMN 2.0 XML (process + diagram) for a template."""
    pid = f"yiwang_{t.key}"
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for i, f in enumerate(t.flows):
        fid = f"flow_{i}"
        outgoing.setdefault(f.source, []).append(fid)
        incoming.setdefault(f.target, []).append(fid)

    def links(node: str) -> str:
        return "".join(f"<bpmn:incoming>{x}</bpmn:incoming>" for x in incoming.get(node, [])) + "".join(
            f"<bpmn:outgoing>{x}</bpmn:outgoing>" for x in outgoing.get(node, [])
        )

    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {_NS} id="defs_{t.key}" targetNamespace="https://yiwang.example/bpmn">'
    ]
    parts.append(f'<bpmn:process id={quoteattr(pid)} name={quoteattr(t.name)} isExecutable="true">')
    parts.append(f'<bpmn:startEvent id="start" name="申请提交">{links("start")}</bpmn:startEvent>')
    for step in t.steps:
        props = (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="role" value="{STEP_ROLES[step]}" />'
            f'<spiffworkflow:property name="decisions" value="{",".join(STEP_DECISIONS[step])}" />'
            "</spiffworkflow:properties></bpmn:extensionElements>"
        )
        parts.append(
            f"<bpmn:userTask id={quoteattr(step)} name={quoteattr(str(STEP_LABELS[step]))}>{props}{links(step)}</bpmn:userTask>"
        )
    for gw in t.gateways:
        parts.append(f'<bpmn:exclusiveGateway id="{gw}">{links(gw)}</bpmn:exclusiveGateway>')
    for end in t.ends:
        name = "不予受理" if end == "end_refused" else "办结"
        parts.append(f'<bpmn:endEvent id="{end}" name="{name}">{links(end)}</bpmn:endEvent>')
    for i, f in enumerate(t.flows):
        cond = (
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{escape(f.condition)}</bpmn:conditionExpression>'
            if f.condition
            else ""
        )
        name = f" name={quoteattr(f.label)}" if f.label else ""
        parts.append(
            f'<bpmn:sequenceFlow id="flow_{i}" sourceRef="{f.source}" targetRef="{f.target}"{name}>{cond}</bpmn:sequenceFlow>'
        )
    parts.append("</bpmn:process>")
    parts.append(
        f'<bpmndi:BPMNDiagram id="diagram_{t.key}"><bpmndi:BPMNPlane id="plane_{t.key}" bpmnElement="{pid}">'
    )
    for node in t.positions:
        x, y, w, h = _box(node, t)
        marker = ' isMarkerVisible="true"' if _kind(node, t) == "gateway" else ""
        parts.append(
            f'<bpmndi:BPMNShape id="{node}_di" bpmnElement="{node}"{marker}><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" /></bpmndi:BPMNShape>'
        )
    for i, f in enumerate(t.flows):
        sx, sy, sw, sh = _box(f.source, t)
        tx, ty, tw, th = _box(f.target, t)
        start = (sx + sw, sy + sh // 2)
        end = (tx, ty + th // 2)
        if tx <= sx:  # a loop back: go under the shapes
            start, end = (sx + sw // 2, sy + sh), (tx + tw // 2, ty + th)
            low = max(sy + sh, ty + th) + 30
            points = [start, (start[0], low), (end[0], low), end]
        elif ty != sy:
            points = [(sx + sw // 2, sy + sh if ty > sy else sy), (sx + sw // 2, ty + th // 2), end]
        else:
            points = [start, end]
        wps = "".join(f'<di:waypoint x="{px}" y="{py}" />' for px, py in points)
        parts.append(f'<bpmndi:BPMNEdge id="flow_{i}_di" bpmnElement="flow_{i}">{wps}</bpmndi:BPMNEdge>')
    parts.append("</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>")
    return "\n".join(parts)
