"""The upload page's import as a Celery task, so a 10,000-row file does not hold a web worker
past its timeout. With no REDIS_URL tasks run eagerly, inside the request (the embedded default).

A worker finds this module only if it is imported: the lead adds
``"yiwang.catalog.spreadsheets.tasks"`` to ``CELERY_IMPORTS`` (or imports it from catalog/tasks.py).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import ImportRun
from yiwang.core.context import ActorContext, reset_actor, set_actor

from .importing import import_items

log = logging.getLogger(__name__)


@shared_task(name="catalog.spreadsheets.run_import")
def run_import(run_id: int, stored_name: str, *, publish: bool = False, ip: str = "") -> None:
    run = ImportRun.objects.select_related("user").get(pk=run_id)
    user = run.user
    token = set_actor(
        ActorContext(
            user_id=user.pk if user else None,
            label=user.get_username() if user else "system",
            ip=ip,
            channel="admin",
        )
    )
    try:
        with default_storage.open(stored_name, "rb") as fh:
            import_items(fh, user=user, publish=publish, file_name=run.file_name, run=run)
    except Exception:  # the run must end with a message, whatever happened
        log.exception("import run %s failed", run_id)
        ImportRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
            finished_at=timezone.now(),
            errors=[
                {
                    "row": None,
                    "column": "",
                    "header": "",
                    "code": "",
                    "message": _(
                        "导入时发生内部错误，整个文件未导入（没有写入任何内容）；请联系平台管理员。"
                    ),
                }
            ],
        )
    finally:
        reset_actor(token)
        try:
            default_storage.delete(stored_name)
        except Exception:
            log.warning("could not delete uploaded import file %s", stored_name)
