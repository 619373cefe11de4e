"""What an uploaded BPMN document asks of yiwang, read from its XML over the whole tree.

SpiffWorkflow runs a process; this module decides whether yiwang may run it. It reads the XML
itself (lxml) because the checks must see what the engine would only meet at run time: every
element inside embedded subprocesses and inside the processes that call activities call, the
assignments of the modelling tools administrators use (Camunda, Flowable, Activiti), and lanes.

Contracts (docs/workflow.md "Checks on upload"):

- A *human step* is a ``userTask``, ``manualTask`` or untyped ``task``: SpiffWorkflow waits for a
  person to complete each of them, so each needs the yiwang role that may do it (``step_role``).
- *Approval steps* are the largest number of distinct human steps of staff roles (not the
  applicant's, not ``deliver``) that one case can pass through from a start event, subprocesses
  and call activities expanded in place. A loop's steps count once each; parallel branches are
  alternative paths, so the longest branch counts. At most ``MAX_APPROVAL_STEPS``.
- Every problem found is one message (Chinese, for the administrator), naming the element.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from .bpmn_templates import APPROVAL_ROLES, NOT_APPROVAL_STEPS
from .expressions import UnsafeExpression, check_expression

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
FLOWABLE = "http://flowable.org/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
# yiwang's own attributes (``yiwang:role`` on a task or a lane).
YIWANG = "https://yiwang.example/bpmn"
ENGINE_NAMESPACES = {CAMUNDA: "camunda", FLOWABLE: "flowable", ACTIVITI: "activiti"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

MAX_APPROVAL_STEPS = 5

# The roles a step can name: the staff roles an inbox shows (workflow.selectors), the
# applicant, and the roles the system completes (bundles' branch and correction waits).
STAFF_STEP_ROLES = ("counter_clerk", "approver", "department_head")
SYSTEM_STEP_ROLES = ("branch", "bundle_correction")
STEP_ROLES = (*STAFF_STEP_ROLES, "applicant", *SYSTEM_STEP_ROLES)
# What a group, lane or assignee name may map to (the system roles only by their code).
MAPPABLE_ROLES = (*STAFF_STEP_ROLES, "applicant")
# Call activities are expanded in place, once per call: a file whose calls nest and repeat could
# otherwise grow the graph exponentially within the size limit.
MAX_EXPANDED_ELEMENTS = 20_000

# Group, lane and assignee names that mean a yiwang role without configuration: the role codes,
# their names in the back office, and the usual Chinese names of the posts. Others are mapped
# by the setting YIWANG_BPMN_GROUP_ROLES. Keys are compared casefolded and stripped.
BUILTIN_GROUP_ROLES: dict[str, str] = {
    **{name: "counter_clerk" for name in ("counter_clerk", "clerk", "受理", "受理人", "受理人员", "窗口")},
    **{name: "counter_clerk" for name in ("窗口人员", "窗口受理", "窗口受理人员", "收件", "收件人员")},
    **{name: "approver" for name in ("approver", "审核", "审核人", "审核人员", "审查", "审查人员")},
    **{name: "approver" for name in ("审批", "审批人", "审批人员", "经办", "经办人", "经办人员", "承办人")},
    **{name: "department_head" for name in ("department_head", "head", "科长", "局长", "处长", "主任")},
    **{name: "department_head" for name in ("部门负责人", "负责人", "分管领导", "领导")},
    # ``$INITIATOR``: the Activiti/Alfresco modeler's name for the person who started the process.
    **{name: "applicant" for name in ("applicant", "申请人", "$initiator")},
}

HUMAN_STEPS = {"userTask", "manualTask", "task"}
SUBPROCESSES = {"subProcess", "transaction"}
SUPPORTED_NODES = {
    *HUMAN_STEPS,
    *SUBPROCESSES,
    "callActivity",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
}


# Why an element kind or event kind is not run by yiwang (translated when a message uses it).
REFUSED_ELEMENTS = {
    "scriptTask": gettext_lazy("脚本任务在服务器上运行代码，一网不运行上传流程中的代码"),
    "serviceTask": gettext_lazy(
        "服务任务调用外部程序（Java 类、表达式、外部任务或连接器），一网的流程不调用外部系统"
    ),
    "sendTask": gettext_lazy("发送任务需要消息通道，一网的流程没有消息通道"),
    "receiveTask": gettext_lazy("接收任务等待外部消息，一网的流程没有消息通道，案件会永远等待"),
    "businessRuleTask": gettext_lazy("业务规则任务调用决策表（DMN），一网不支持"),
    "adHocSubProcess": gettext_lazy("自由子流程（ad-hoc）一网不支持"),
    "complexGateway": gettext_lazy("复杂网关一网不支持"),
}
REFUSED_EVENTS = {
    "messageEventDefinition": gettext_lazy("消息事件等待或发送外部消息，一网的流程没有消息通道"),
    "signalEventDefinition": gettext_lazy("信号事件需要外部发出的信号，一网的流程没有信号通道"),
    "conditionalEventDefinition": gettext_lazy("条件事件一网不支持"),
    "linkEventDefinition": gettext_lazy("链接事件一网不支持"),
    "compensateEventDefinition": gettext_lazy("补偿事件一网不支持"),
    "cancelEventDefinition": gettext_lazy("取消事件一网不支持"),
}


@dataclass(frozen=True)
class HumanStep:
    element_id: str
    label: str
    kind: str  # userTask | manualTask | task
    role: str  # a STEP_ROLES value, or "" when none could be found
    decisions: list[str]


@dataclass
class Model:
    """The result of reading a document: its main process, its human steps (by element id, over
    the whole tree), the manual or untyped tasks it passes through, the approval step count, and
    the problems found (empty: it may run)."""

    process_id: str = ""
    name: str = ""
    steps: dict[str, HumanStep] = field(default_factory=dict)
    passed_through: set[str] = field(default_factory=set)
    approval_steps: int = 0
    walk: list[str] = field(default_factory=list)  # human step ids in the order a case meets them
    side_trips: set[str] = field(default_factory=set)  # steps a case may or may not take
    problems: list[str] = field(default_factory=list)


def local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _bpmn_children(el, name: str | None = None) -> Iterator:
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        qname = etree.QName(child)
        if qname.namespace == BPMN and (name is None or qname.localname == name):
            yield child


def _label(el) -> str:
    name = (el.get("name") or "").strip()
    ident = el.get("id") or "?"
    return f"“{name}”（{ident}）" if name else f"“{ident}”"


def configured_group_roles() -> dict[str, str]:
    """The setting YIWANG_BPMN_GROUP_ROLES (name → yiwang role), keys casefolded."""
    raw = getattr(settings, "YIWANG_BPMN_GROUP_ROLES", None) or {}
    return {str(k).strip().casefold(): str(v).strip() for k, v in raw.items()}


def group_role(name: str, configured: dict[str, str]) -> str | None:
    key = name.strip().casefold()
    return configured.get(key) or BUILTIN_GROUP_ROLES.get(key)


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def _engine_attr(el, attr: str) -> str | None:
    for ns in ENGINE_NAMESPACES:
        value = el.get(f"{{{ns}}}{attr}")
        if value is not None and value.strip():
            return value
    return None


def _potential_owners(el) -> list[str]:
    """Names in standard BPMN ``potentialOwner``/``humanPerformer`` resource expressions, with
    Activiti's ``user(x)``/``group(x)`` wrappers removed."""
    names: list[str] = []
    for performer in el.iter(f"{{{BPMN}}}potentialOwner", f"{{{BPMN}}}humanPerformer"):
        for expr in performer.iter(f"{{{BPMN}}}formalExpression"):
            for part in _names(expr.text or ""):
                match = re.fullmatch(r"(?:user|group)\((.*)\)", part)
                names.append((match.group(1) if match else part).strip())
    return names


def _spiff_properties(el) -> dict[str, str]:
    ext = next(_bpmn_children(el, "extensionElements"), None)
    if ext is None:
        return {}
    return {
        p.get("name", ""): p.get("value", "")
        for p in ext.iter(f"{{{SPIFF}}}property")
        if p.get("name") is not None
    }


_ISO_8601 = re.compile(
    r"R\d*/.*|P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d{4}-\d\d-\d\d.*"
)


def is_iso_literal(text: str) -> bool:
    """A timer written as Camunda and Flowable write it: bare ISO 8601 text, not an expression."""
    return bool(_ISO_8601.fullmatch(text.strip()))


class _TooLarge(Exception):
    """The expanded tree passed its element cap (nested, repeated call activities)."""


class _Reader:
    def __init__(self, root) -> None:
        self.root = root
        self.model = Model()
        self.configured = configured_group_roles()
        self.processes = {p.get("id"): p for p in root.iter(f"{{{BPMN}}}process")}
        # A pool (participant) names who works in its process, like a lane around all of it.
        self.pools = {
            p.get("processRef"): _names(p.get(f"{{{YIWANG}}}role") or p.get("name") or "")
            for p in root.iter(f"{{{BPMN}}}participant")
            if p.get("processRef") and (p.get(f"{{{YIWANG}}}role") or (p.get("name") or "").strip())
        }
        self.unmapped: dict[str, list[str]] = {}  # name → steps that use it
        # ``${x}`` where a start event declares ``initiator="x"`` names the person who started
        # the process: in yiwang, the applicant.
        self.initiators = {
            f"${{{value.strip()}}}"
            for start in root.iter(f"{{{BPMN}}}startEvent")
            for ns in ENGINE_NAMESPACES
            if (value := start.get(f"{{{ns}}}initiator"))
        }
        # The graph of one case's possible walks: vertices are strings, edges sets.
        self.edges: dict[str, set[str]] = {}
        self.order: list[str] = []  # vertices in the order they were added
        self.weight: dict[str, int] = {}
        self.human_vertex: dict[str, str] = {}  # vertex → element id of its human step

    def problem(self, message: str) -> None:
        if message not in self.model.problems:
            self.model.problems.append(message)

    def vertex(self, v: str) -> None:
        if v not in self.edges:
            if len(self.edges) >= MAX_EXPANDED_ELEMENTS:
                raise _TooLarge
            self.edges[v] = set()
            self.order.append(v)

    def edge(self, a: str, b: str) -> None:
        self.vertex(a)
        self.vertex(b)
        self.edges[a].add(b)

    # The main process -------------------------------------------------------------------------
    def main_process(self):
        called = {c.get("calledElement") for c in self.root.iter(f"{{{BPMN}}}callActivity")}
        top = [p for p in self.processes.values() if p.get("id") not in called]
        # bpmn-js marks what it draws not executable by default: a single such process is
        # still the one the administrator means.
        candidates = [p for p in top if p.get("isExecutable", "true") != "false"] or top
        if len(candidates) != 1:
            self.problem(
                _("BPMN 文件须恰好包含一个可执行的主流程（当前 %(n)s 个：%(ids)s）。")
                % {"n": len(candidates), "ids": "、".join(p.get("id") or "?" for p in candidates) or "无"}
            )
            return None
        return candidates[0]

    # Lanes ------------------------------------------------------------------------------------
    def lane_roles(self, scope) -> dict[str, tuple[str, list[str]]]:
        """Element id → (lane label, names the lane gives it): the innermost lane wins."""
        out: dict[str, tuple[str, list[str]]] = {}

        def walk(lane_set) -> None:
            for lane in _bpmn_children(lane_set, "lane"):
                own = lane.get(f"{{{YIWANG}}}role") or (lane.get("name") or "").strip()
                for ref in _bpmn_children(lane, "flowNodeRef"):
                    if ref.text and own:
                        out[ref.text.strip()] = (_label(lane), _names(own) if "," in own else [own])
                for child_set in _bpmn_children(lane, "childLaneSet"):
                    walk(child_set)

        for lane_set in _bpmn_children(scope, "laneSet"):
            walk(lane_set)
        return out

    # Roles ------------------------------------------------------------------------------------
    def step_role(self, el, lanes: dict, inherited: list[str] | None, pool: list[str] | None) -> str | None:
        """The role of a human step: its own ``role`` property (a role code), else the names
        of the first assignment present (``yiwang:role``, candidate groups, potential owners,
        assignee, candidate users), else of its lane, else of the subprocess or call around
        it, else (user tasks only: a pool is usually named after an organisation, not a role)
        of its pool; names are mapped to roles by ``group_role``.
        None: a ``manualTask`` or untyped ``task`` given no role at all, which Camunda and
        Flowable pass through and so does yiwang (``engine``); "" when a problem was noted."""
        props = _spiff_properties(el)
        explicit = props.get("role")
        if explicit:
            if explicit not in STEP_ROLES:
                self.problem(
                    _("环节%(step)s的角色“%(role)s”不是一网的角色（可用：%(roles)s）。")
                    % {"step": _label(el), "role": explicit, "roles": "、".join(STEP_ROLES)}
                )
                return ""
            return explicit
        names: list[str] = []
        for source in (
            el.get(f"{{{YIWANG}}}role"),
            _engine_attr(el, "candidateGroups"),
            ",".join(_potential_owners(el)),
            _engine_attr(el, "assignee"),
            _engine_attr(el, "candidateUsers"),
        ):
            if source and _names(source):
                names = _names(source)
                break
        if not names and el.get("id") in lanes:
            names = lanes[el.get("id")][1]
        if not names and inherited:
            names = inherited
        if not names and pool and local(el) == "userTask":
            names = pool
        if not names and local(el) != "userTask":
            return None
        if not names:
            self.problem(
                _(
                    "环节%(step)s没有指定办理角色：请用 role 属性、candidateGroups、assignee "
                    "或把它放进以角色命名的泳道。"
                )
                % {"step": _label(el)}
            )
            return ""
        roles = []
        for name in names:
            role = "applicant" if name in self.initiators else group_role(name, self.configured)
            if role is None or role not in MAPPABLE_ROLES:
                self.unmapped.setdefault(name, []).append(_label(el))
            elif role not in roles:
                roles.append(role)
        if len(roles) > 1:
            self.problem(
                _("环节%(step)s的候选组对应多个角色（%(roles)s），一网的一个环节只由一种角色办理。")
                % {"step": _label(el), "roles": "、".join(roles)}
            )
            return ""
        return roles[0] if roles else ""

    def inherited_names(self, el, lanes: dict, inherited: list[str] | None) -> list[str] | None:
        """The names a subprocess or call activity passes to the steps inside it that have none."""
        own = el.get(f"{{{YIWANG}}}role") or _spiff_properties(el).get("role")
        if own:
            return [own]
        for attr in ("candidateGroups", "assignee"):
            value = _engine_attr(el, attr)
            if value:
                return _names(value)
        if el.get("id") in lanes:
            return lanes[el.get("id")][1]
        return inherited

    # Element checks ---------------------------------------------------------------------------
    def check_element(self, el) -> None:
        tag = local(el)
        why = REFUSED_ELEMENTS.get(tag)
        if why:
            self.problem(
                _("不支持的元素 %(tag)s %(el)s：%(why)s。") % {"tag": tag, "el": _label(el), "why": why}
            )
        for definition in el:
            kind = local(definition)
            why = REFUSED_EVENTS.get(kind)
            if why:
                self.problem(
                    _("不支持的元素 %(tag)s %(el)s：%(why)s。") % {"tag": tag, "el": _label(el), "why": why}
                )
            if kind == "timerEventDefinition":
                for timer in definition:
                    text = (timer.text or "").strip()
                    if text and not is_iso_literal(text):
                        self.expression(text, el, gettext_lazy("定时器"))
        for ns, prefix in ENGINE_NAMESPACES.items():
            for listener in ("executionListener", "taskListener"):
                if el.find(f"{{{BPMN}}}extensionElements/{{{ns}}}{listener}") is not None:
                    self.problem(
                        _(
                            "元素%(el)s带有 %(prefix)s:%(listener)s：监听器在 %(engine)s 中运行 Java 代码或脚本，一网不执行，请删除。"
                        )
                        % {
                            "el": _label(el),
                            "prefix": prefix,
                            "listener": listener,
                            "engine": prefix.capitalize(),
                        }
                    )
            for attr in ("class", "delegateExpression", "expression", "type", "topic"):
                if tag not in ("serviceTask", "sendTask", "businessRuleTask") and el.get(f"{{{ns}}}{attr}"):
                    self.problem(
                        _("元素%(el)s带有 %(prefix)s:%(attr)s：它调用外部程序，一网不执行。")
                        % {"el": _label(el), "prefix": prefix, "attr": attr}
                    )
        for script in ("preScript", "postScript"):
            if el.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}{script}") is not None:
                self.problem(
                    _("元素%(el)s带有 spiffworkflow:%(script)s：一网不运行上传流程中的代码。")
                    % {"el": _label(el), "script": script}
                )
        loop = next(_bpmn_children(el, "multiInstanceLoopCharacteristics"), None)
        if loop is not None:
            if _engine_attr(loop, "collection") is not None:
                self.problem(
                    _("元素%(el)s的多实例用引擎集合表达式（collection），一网不支持。") % {"el": _label(el)}
                )
            for part in ("loopCardinality", "completionCondition"):
                node = next(_bpmn_children(loop, part), None)
                if node is not None and (node.text or "").strip():
                    self.expression(node.text.strip(), el, gettext_lazy("多实例"))
        if next(_bpmn_children(el, "standardLoopCharacteristics"), None) is not None:
            self.problem(
                _("元素%(el)s的循环标记（standardLoop）一网不支持，请用连线画出循环。") % {"el": _label(el)}
            )

    def expression(self, text: str, el, what) -> None:
        try:
            check_expression(text)
        except (UnsafeExpression, SyntaxError):
            self.problem(
                _("%(what)s不被允许（%(el)s）：%(expr)s。只可用任务数据、常量、比较和 and/or/not。")
                % {"what": what, "el": _label(el), "expr": text}
            )

    # The walk graph ---------------------------------------------------------------------------
    def scope(
        self,
        scope,
        prefix: str,
        inherited: list[str] | None,
        calls: tuple[str, ...],
        pool: list[str] | None = None,
    ) -> tuple[str, str]:
        """Add ``scope``'s elements to the graph; return its entry and exit vertices.
        ``inherited``: the names the subprocess or call around it gives; ``pool``: its pool's."""
        entry, exit_ = f"{prefix}#in", f"{prefix}#out"
        self.vertex(entry)
        self.vertex(exit_)
        lanes = self.lane_roles(scope)
        ends: dict[str, tuple[str, str]] = {}  # element id → (in, out) vertices
        inner: dict[str, list[str]] = {}  # element id → vertices inside it (subprocesses)
        for el in _bpmn_children(scope):
            tag = local(el)
            if (
                tag in ("sequenceFlow", "laneSet")
                or tag not in SUPPORTED_NODES
                and tag not in REFUSED_ELEMENTS
            ):
                continue
            ident = el.get("id") or "?"
            self.check_element(el)
            vertex = f"{prefix}/{ident}"
            if tag in SUBPROCESSES or tag == "callActivity":
                names = self.inherited_names(el, lanes, inherited)
                before = len(self.order)
                if tag == "callActivity":
                    called = (el.get("calledElement") or "").strip()
                    target = self.processes.get(called)
                    if not called:
                        self.problem(
                            _("调用活动%(el)s没有指定被调用的流程（calledElement）。") % {"el": _label(el)}
                        )
                        ends[ident] = (vertex, vertex)
                        self.vertex(vertex)
                        continue
                    if target is None:
                        self.problem(
                            _(
                                "调用活动%(el)s调用的流程“%(called)s”不在本文件中：一网只运行同一文件中的流程。"
                            )
                            % {"el": _label(el), "called": called}
                        )
                        ends[ident] = (vertex, vertex)
                        self.vertex(vertex)
                        continue
                    if called in calls:
                        self.problem(
                            _("调用活动%(el)s递归调用流程“%(called)s”，一网不支持。")
                            % {"el": _label(el), "called": called}
                        )
                        ends[ident] = (vertex, vertex)
                        self.vertex(vertex)
                        continue
                    sub_in, sub_out = self.scope(
                        target, vertex, names, (*calls, called), self.pools.get(called)
                    )
                else:
                    sub_in, sub_out = self.scope(el, vertex, names, calls, pool)
                ends[ident] = (sub_in, sub_out)
                inner[ident] = self.order[before:]
                if el.get("triggeredByEvent") == "true":
                    # An event subprocess starts from anywhere in its parent and ends it.
                    self.edge(entry, sub_in)
                    self.edge(sub_out, exit_)
                continue
            self.vertex(vertex)
            ends[ident] = (vertex, vertex)
            if tag in HUMAN_STEPS:
                role = self.step_role(el, lanes, inherited, pool)
                if role is None:
                    self.model.passed_through.add(ident)
                    continue
                props = _spiff_properties(el)
                decisions = [d for d in (props.get("decisions") or "").split(",") if d]
                known = self.model.steps.get(ident)
                step = HumanStep(ident, (el.get("name") or "").strip() or ident, tag, role, decisions)
                if known is not None and known.role != role and known.role and role:
                    self.problem(
                        _("环节%(step)s经不同的调用活动继承了不同角色（%(a)s、%(b)s）。")
                        % {"step": _label(el), "a": known.role, "b": role}
                    )
                self.model.steps[ident] = step
                self.human_vertex[vertex] = ident
                approval = role in APPROVAL_ROLES and ident not in NOT_APPROVAL_STEPS
                self.weight[vertex] = 1 if approval else 0
            if tag == "startEvent":
                self.edge(entry, vertex)
            if tag == "endEvent":
                self.edge(vertex, exit_)
        nodes = {el.get("id"): el for el in _bpmn_children(scope) if local(el) in SUPPORTED_NODES}
        outgoing: dict[str, list] = {}
        for el in _bpmn_children(scope, "sequenceFlow"):
            outgoing.setdefault(el.get("sourceRef") or "", []).append(el)
        for source_id, flows in outgoing.items():
            node = nodes.get(source_id)
            if node is None or len(flows) < 2:
                continue
            if local(node) in ("exclusiveGateway", "inclusiveGateway"):
                for flow in flows:
                    if (
                        flow.get("id") != node.get("default")
                        and next(_bpmn_children(flow, "conditionExpression"), None) is None
                    ):
                        self.problem(
                            _("网关%(gw)s的出口连线%(flow)s既没有条件也不是默认连线：案件无法决定走哪条。")
                            % {"gw": _label(node), "flow": _label(flow)}
                        )
            elif not local(node).endswith("Gateway") and local(node) != "startEvent":
                self.problem(
                    _("元素%(el)s有多条出口连线：请用并行网关（同时）或排他网关（择一）分支。")
                    % {"el": _label(node)}
                )
        for el in _bpmn_children(scope, "sequenceFlow"):
            source, target = ends.get(el.get("sourceRef") or ""), ends.get(el.get("targetRef") or "")
            if source and target:
                self.edge(source[1], target[0])
            condition = next(_bpmn_children(el, "conditionExpression"), None)
            if condition is not None and (condition.text or "").strip():
                self.expression(condition.text.strip(), el, gettext_lazy("网关条件"))
        for el in _bpmn_children(scope, "boundaryEvent"):
            attached = el.get("attachedToRef") or ""
            vertex = ends.get(el.get("id") or "", (None,))[0]
            if vertex is None or attached not in ends:
                continue
            # The event can fire whenever its activity is under way, inside it included.
            for v in {ends[attached][0], *inner.get(attached, [])}:
                self.edge(v, vertex)
        return entry, exit_

    # Counting ---------------------------------------------------------------------------------
    def components(self) -> tuple[dict[str, int], int]:
        """Vertex → its strongly connected component (a loop's vertices share one), numbered by
        Tarjan's algorithm in reverse topological order; and how many there are."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        component: dict[str, int] = {}
        counter = 0
        comps = 0
        for root in self.edges:
            if root in index:
                continue
            work = [(root, iter(sorted(self.edges[root])))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                v, children = work[-1]
                advanced = False
                for w in children:
                    if w not in index:
                        index[w] = low[w] = counter
                        counter += 1
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(sorted(self.edges[w]))))
                        advanced = True
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component[w] = comps
                        if w == v:
                            break
                    comps += 1
        return component, comps

    def approval_steps(self, start: str) -> int:
        """The heaviest walk from ``start``: components (a loop's vertices) in topological
        order, each counting the sum of its vertices' weights."""
        component, comps = self.components()
        weight = [0] * comps
        succ: list[set[int]] = [set() for _ in range(comps)]
        for v, targets in self.edges.items():
            weight[component[v]] += self.weight.get(v, 0)
            for w in targets:
                if component[w] != component[v]:
                    succ[component[v]].add(component[w])
        best = [0] * comps
        for c in range(comps):  # successors have smaller numbers: already computed
            best[c] = weight[c] + max((best[s] for s in succ[c]), default=0)
        return best[component[start]]

    def walk(self, start: str) -> list[str]:
        """The human steps reachable from ``start`` in the order a case meets them; the
        published guide lists them so. The flows that go back (a return, a correction loop)
        are set aside, found by a depth-first walk; on what remains a step comes after every
        step that leads to it (its longest distance from the start), and of two steps at the
        same distance, the side trip that leads back (an inspection) before the one that
        goes on (the decision)."""
        back: set[tuple[str, str]] = set()
        postorder: list[str] = []
        on_path, done = {start}, set()
        work = [(start, iter(sorted(self.edges[start])))]
        while work:
            v, children = work[-1]
            for w in children:
                if w in on_path:
                    back.add((v, w))
                elif w not in done:
                    on_path.add(w)
                    work.append((w, iter(sorted(self.edges[w]))))
                    break
            else:
                work.pop()
                on_path.discard(v)
                done.add(v)
                postorder.append(v)
        order = postorder[::-1]  # a topological order once the flows going back are set aside
        level = dict.fromkeys(order, 0)
        for v in order:
            for w in self.edges[v]:
                if (v, w) not in back:
                    level[w] = max(level[w], level[v] + 1)
        rest = dict.fromkeys(order, 0)
        for v in postorder:
            for w in self.edges[v]:
                if (v, w) not in back:
                    rest[v] = max(rest[v], rest[w] + 1)
        seen: dict[str, tuple[int, int]] = {}
        onward: set[str] = set()
        for vertex, ident in self.human_vertex.items():
            if vertex in level:
                key = (level[vertex], rest[vertex])
                seen[ident] = min(seen.get(ident, key), key)
                if rest[vertex]:
                    onward.add(ident)
        # A step whose every flow goes back (an inspection that returns to the review) does
        # not move a case on: a case may or may not take it.
        self.model.side_trips = set(seen) - onward
        return sorted(seen, key=lambda ident: (seen[ident], ident))

    def reachable(self, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for w in self.edges[todo.pop()]:
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen

    def read(self) -> Model:
        main = self.main_process()
        if main is None:
            return self.model
        self.model.process_id = main.get("id") or ""
        self.model.name = (main.get("name") or "").strip()
        try:
            main_id = main.get("id") or ""
            entry, _exit = self.scope(main, "", None, (main_id,), self.pools.get(main_id))
        except _TooLarge:
            self.problem(
                _("流程展开调用活动后超过 %(n)s 个元素，请减少嵌套的调用。") % {"n": MAX_EXPANDED_ELEMENTS}
            )
            return self.model
        if not self.model.steps:
            self.problem(_("流程中没有任何人工环节（userTask）。"))
        if self.unmapped:
            listed = "；".join(f"“{name}”（{'、'.join(steps)}）" for name, steps in self.unmapped.items())
            self.problem(
                _(
                    "以下候选组、办理人或泳道无法对应到一网的角色：%(names)s。请改用一网角色（counter_clerk 受理、"
                    "approver 审核/审批、department_head 科长/局长、applicant 申请人），或由平台管理员在设置 "
                    "YIWANG_BPMN_GROUP_ROLES 中配置映射。"
                )
                % {"names": listed}
            )
        reached = self.reachable(entry)
        # A step is reached when any copy of it is (a called process has one per call).
        reached_ids = {ident for vertex, ident in self.human_vertex.items() if vertex in reached}
        for ident, step in self.model.steps.items():
            if ident not in reached_ids:
                self.problem(
                    _("环节“%(name)s”（%(id)s）与开始事件不相连：没有任何案件会到达它，请连线或删除。")
                    % {"name": step.label, "id": ident}
                )
        self.model.approval_steps = self.approval_steps(entry)
        self.model.walk = self.walk(entry)
        if self.model.approval_steps > MAX_APPROVAL_STEPS:
            self.problem(
                _(
                    "审批环节不得超过%(max)s个（当前为%(n)s个）：按一个案件从开始到结束最多经过的审批环节计，"
                    "子流程和调用活动中的环节一并计入。"
                )
                % {"max": MAX_APPROVAL_STEPS, "n": self.model.approval_steps}
            )
        return self.model


def read(root) -> Model:
    """Read a parsed BPMN document (``lxml`` root element)."""
    return _Reader(root).read()
