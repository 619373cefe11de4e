from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
