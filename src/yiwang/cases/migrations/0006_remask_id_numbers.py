"""Masked ID numbers kept in JSON (form data, shared-data records, outbox payloads) take the
shorter mask of ``core.crypto.mask_id_number`` (first and last character): the old one (first
3, last 4) joined with a birth date and a county rebuilt the number. The old mask shows both
characters the new one keeps, so no key is needed."""

import re

from django.db import migrations

OLD_MASK = re.compile(r"^[1-9]\d{2}\*{11}\d{3}[0-9X]$")


def remask(value):
    if isinstance(value, str):
        return value[0] + "*" * 16 + value[-1] if OLD_MASK.match(value) else value
    if isinstance(value, dict):
        return {k: remask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [remask(v) for v in value]
    return value


def forwards(apps, schema_editor):
    for model_name, field in (
        ("Application", "data"),
        ("CaseMaterial", "record"),
        ("OutboxMessage", "payload"),
    ):
        model = apps.get_model("cases", model_name)
        batch = []
        for row in model.objects.only("pk", field).iterator(chunk_size=1000):
            old = getattr(row, field)
            new = remask(old)
            if new != old:
                setattr(row, field, new)
                batch.append(row)
            if len(batch) >= 1000:
                model.objects.bulk_update(batch, [field])
                batch = []
        model.objects.bulk_update(batch, [field])


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_case_drop_covered_indexes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
