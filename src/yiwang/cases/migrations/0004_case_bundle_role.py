from django.db import migrations, models


def mark_bundle_cases(apps, schema_editor):
    """Cases made before the column: umbrellas (their draft is linked to a bundle) and branches."""
    Case = apps.get_model("cases", "Case")
    BundleApplication = apps.get_model("bundles", "BundleApplication")
    BundleBranch = apps.get_model("bundles", "BundleBranch")
    Case.objects.filter(application_id__in=BundleApplication.objects.values("application_id")).update(
        bundle_role="umbrella"
    )
    Case.objects.filter(pk__in=BundleBranch.objects.values("branch_id")).update(bundle_role="branch")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_seal_personal_form_data"),
        ("bundles", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="bundle_role",
            field=models.CharField(
                blank=True,
                choices=[("", "—"), ("umbrella", "一件事总件"), ("branch", "一件事分件")],
                default="",
                max_length=8,
                verbose_name="一件事",
            ),
        ),
        migrations.RunPython(mark_bundle_cases, migrations.RunPython.noop),
    ]
