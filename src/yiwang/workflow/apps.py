from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "yiwang.workflow"
    label = "workflow"
