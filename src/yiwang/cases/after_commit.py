"""What a case step leaves for a background job, published once per transaction.

A step writes its outbox messages and names its notices inside its transaction; after the
commit they are sent and drawn by a job. Publishing a Celery message costs a broker round trip
and the serialising of the message, and a step typically has two or three such jobs (an SMS, an
e-mail, a notice PDF, an approval's e-certificate PDF): they are collected here and published as
one ``cases.after_commit`` job. A rolled-back transaction discards its batch with the rest of its
on-commit hooks. Other apps add their own jobs with ``also_after_commit`` (the exchange app's
certificate rendering) rather than publishing a second message from the same step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import get_language


@dataclass
class _Batch:
    outbox_ids: list[int] = field(default_factory=list)
    notices: list[tuple[int, str, str]] = field(default_factory=list)  # case id, kind, language
    jobs: list[tuple[str, list]] = field(default_factory=list)

    def __call__(self) -> None:
        from .tasks import after_commit

        # A short argsrepr spares Celery's saferepr of the arguments, whose lists of ids can be
        # long; monitoring still sees what the job carries.
        after_commit.apply_async(
            (self.outbox_ids, [list(n) for n in self.notices], [list(j) for j in self.jobs]),
            argsrepr=f"({len(self.outbox_ids)} messages, {len(self.notices)} notices, {len(self.jobs)} jobs)",
            kwargsrepr="{}",
        )


def _pending() -> _Batch | None:
    """The batch of the current transaction, registered with ``on_commit`` on first use (None
    outside a transaction: the write is committed already). A batch whose hook is no longer
    pending (run at a commit, or dropped by a rollback) is not reused."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return None
    batch = getattr(conn, "_yiwang_after_commit", None)
    if batch is None or not any(hook[1] is batch for hook in conn.run_on_commit):
        batch = _Batch()
        conn._yiwang_after_commit = batch
        transaction.on_commit(batch)
    return batch


def send_after_commit(outbox_ids: list[int]) -> None:
    batch = _pending()
    if batch is None:
        _Batch(outbox_ids=list(outbox_ids))()
    else:
        batch.outbox_ids.extend(outbox_ids)


def issue_notice_after_commit(case_id: int, kind: str) -> None:
    """The notice is drawn in the language active now (a 繁體中文 step gets a notice in
    Traditional characters, cases.notices.render_pdf), whichever process draws it."""
    notice = (case_id, kind, get_language() or settings.LANGUAGE_CODE)
    batch = _pending()
    if batch is None:
        _Batch(notices=[notice])()
    else:
        batch.notices.append(notice)


def also_after_commit(task, *args) -> None:
    """Run the Celery ``task`` with ``args`` in the step's one after-commit job (after its
    messages and notices; the job finds it by its registered name); outside a transaction,
    publish it on its own."""
    batch = _pending()
    if batch is None:
        task.delay(*args)
    else:
        batch.jobs.append((task.name, list(args)))
