"""A certificate's public holder ID takes the shorter mask (first and last character), as
``core.crypto.mask_id_number`` now makes it; the old one shows both, so no key is needed."""

import re

from django.db import migrations

OLD_MASK = re.compile(r"^[1-9]\d{2}\*{11}\d{3}[0-9X]$")


def forwards(apps, schema_editor):
    ECertificate = apps.get_model("exchange", "ECertificate")
    batch = []
    for cert in ECertificate.objects.only("pk", "data_public").iterator(chunk_size=1000):
        masked = (cert.data_public or {}).get("holder_id_masked")
        if isinstance(masked, str) and OLD_MASK.match(masked):
            cert.data_public = {**cert.data_public, "holder_id_masked": masked[0] + "*" * 16 + masked[-1]}
            batch.append(cert)
        if len(batch) >= 1000:
            ECertificate.objects.bulk_update(batch, ["data_public"])
            batch = []
    ECertificate.objects.bulk_update(batch, ["data_public"])


class Migration(migrations.Migration):
    dependencies = [("exchange", "0002_certificate_access")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
