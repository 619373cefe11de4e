from celery import shared_task

from .services import sweep_timers


@shared_task(name="yiwang.workflow.sweep_timers")
def sweep_timers_task() -> int:
    return sweep_timers()
