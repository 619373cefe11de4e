"""One-off: derive the result kind of the items and published versions that predate it.

Before ``result_kind`` existed, approval guessed a certificate from the last characters of the
result name (审批结果名称). This migration applies that old rule once, so that items and the
versions cases already point at keep producing what they produced; from here on the element is
kept by administrators and approval reads only it. A 注销 (deregistration) item whose result
name looked like a certificate becomes the revocation of that certificate type, not an issue.
Rows that already have a kind are left alone; rerunning it changes nothing.
"""

from django.db import migrations

# The old rule, frozen here: a result whose name ends like this was issued as a certificate.
_OLD_CERTIFICATE_ENDINGS = ("证", "照", "证书", "证明")


def _derive(name: str, result_name: str) -> tuple[str, str]:
    result_name = (result_name or "").strip()
    if not result_name.endswith(_OLD_CERTIFICATE_ENDINGS):
        return "", ""
    if "注销" in (name or ""):
        return "revocation", result_name
    return "certificate", result_name


def forwards(apps, schema_editor):
    StandardItem = apps.get_model("catalog", "StandardItem")
    ServiceItem = apps.get_model("catalog", "ServiceItem")
    Version = apps.get_model("catalog", "ServiceItemVersion")
    for std in StandardItem.objects.filter(result_kind="").exclude(result_name="").iterator():
        kind, cert_type = _derive(std.name, std.result_name)
        if kind:
            StandardItem.objects.filter(pk=std.pk).update(result_kind=kind, result_certificate_type=cert_type)
    items = ServiceItem.objects.filter(result_kind="").exclude(result_name="").select_related("standard")
    for item in items.iterator():
        kind, cert_type = _derive(item.name or item.standard.name, item.result_name)
        if kind:
            ServiceItem.objects.filter(pk=item.pk).update(result_kind=kind, result_certificate_type=cert_type)
    batch = []
    for version in Version.objects.only("pk", "elements").iterator(chunk_size=2000):
        elements = version.elements or {}
        if "result_kind" in elements:
            continue
        kind, cert_type = _derive(elements.get("name", ""), elements.get("result_name", ""))
        version.elements = {
            **elements,
            "result_kind": kind or "decision",
            "result_certificate_type": cert_type,
        }
        batch.append(version)
        if len(batch) >= 2000:
            Version.objects.bulk_update(batch, ["elements"])
            batch = []
    if batch:
        Version.objects.bulk_update(batch, ["elements"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_result_kind")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
