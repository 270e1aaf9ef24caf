"""The decision audit loses its single-column indexes: each cost every bulk insert more than the rows did.

The person is still found through the (person, -at) index; organisation and project are read only by the
PROTECT check when one is deleted.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consent", "0008_decision_functions"), ("phr", "0001_parties_keys_audit")]

    operations = [
        migrations.AlterField(
            model_name="decisionaudit",
            name="organisation",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="phr.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="decisionaudit",
            name="person",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="decision_audits",
                to="phr.person",
            ),
        ),
        migrations.AlterField(
            model_name="decisionaudit",
            name="project",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.project",
            ),
        ),
    ]
