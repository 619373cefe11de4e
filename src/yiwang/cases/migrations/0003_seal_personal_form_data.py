"""Encrypt the personal values already stored in plain in ``Application.data`` (drafts and
submitted cases alike): the masked value stays in ``data``, the real one goes into
``personal_cipher``. Idempotent: a row whose personal fields are all sealed is left alone, so
the migration can be run again (or re-applied after a partial run) safely."""

from django.db import migrations


def seal_existing(apps, schema_editor):
    from yiwang.cases.personal import seal_values, unsealed_keys

    Application = apps.get_model("cases", "Application")
    last = 0
    while batch := list(Application.objects.filter(pk__gt=last).order_by("pk")[:500]):
        changed = []
        for app in batch:
            if unsealed_keys(app.form_schema, app.data, app.personal_cipher):
                app.data, app.personal_cipher = seal_values(app.form_schema, app.data, app.personal_cipher)
                changed.append(app)
        if changed:
            Application.objects.bulk_update(changed, ["data", "personal_cipher"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_application_personal_cipher")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
