from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "yiwang.workflow"
    label = "workflow"
    verbose_name = _("审批流程")

    def ready(self) -> None:
        from . import engine, services

        # A stored state names its process by the checksum of its BPMN (engine.dump).
        engine.xml_for_checksum = services.xml_for_checksum
