from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "yiwang.workflow"
    label = "workflow"

    def ready(self) -> None:
        from . import engine, services

        # A stored state names its process by the checksum of its BPMN (engine.dump).
        engine.xml_for_checksum = services.xml_for_checksum
