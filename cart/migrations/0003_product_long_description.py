from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cart", "0002_catalog")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="long_description",
            field=models.TextField(blank=True),
        ),
    ]
