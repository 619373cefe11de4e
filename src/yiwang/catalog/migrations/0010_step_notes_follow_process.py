"""The guide's steps now come from the process an item runs; the item's own steps became notes
(time limit, criteria) on the process's steps of the same name. Rename the notes that older
defaults and the generator wrote under other names, so that existing items publish again."""

from django.db import migrations

RENAMED = {"现场核查": "现场核查/专家评审", "审查决定": "审查"}


def forwards(apps, schema_editor):
    ProcessStep = apps.get_model("catalog", "ProcessStep")
    ProcessStep.objects.filter(name="办结", item__is_instant=True).update(name="决定")
    for old, new in RENAMED.items():
        ProcessStep.objects.filter(name=old).update(name=new)
    # A bundle's parallel branches are listed from its process.
    ProcessStep.objects.filter(name="各部门并联审批").delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_derive_result_kind_once")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
