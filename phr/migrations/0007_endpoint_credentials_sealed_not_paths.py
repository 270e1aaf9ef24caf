"""FHIR endpoint credentials sealed in the row, no longer paths on the server.

``client_secret_file`` and ``private_key_file`` named any file Mamori's process could read, whose content was
then sent to whatever token endpoint the server advertised. They are dropped without reading them: an
endpoint that used one gets no credential here and an operator enters it again on the staff page
(/staff/endpoints/). Reversing brings the two columns back empty.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("phr", "0006_sync_spool")]

    operations = [
        migrations.RemoveField(model_name="fhirendpoint", name="client_secret_file"),
        migrations.RemoveField(model_name="fhirendpoint", name="private_key_file"),
        migrations.AddField(
            model_name="fhirendpoint",
            name="client_secret_encrypted",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="fhirendpoint",
            name="client_secret_set_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="client secret set on"),
        ),
        migrations.AddField(
            model_name="fhirendpoint",
            name="private_key_encrypted",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="fhirendpoint",
            name="private_key_set_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="private key set on"),
        ),
    ]
