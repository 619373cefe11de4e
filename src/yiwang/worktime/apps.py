from django.apps import AppConfig


class WorktimeConfig(AppConfig):
    name = "yiwang.worktime"
    label = "worktime"
