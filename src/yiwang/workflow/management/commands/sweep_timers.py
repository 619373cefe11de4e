from django.core.management.base import BaseCommand

from yiwang.workflow.services import sweep_timers


class Command(BaseCommand):
    help = "Fire due BPMN timers of waiting processes (run every minute, or by Celery beat)."

    def handle(self, *args, **options):
        self.stdout.write(f"processes moved: {sweep_timers()}")
