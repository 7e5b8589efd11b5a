"""The starting catalog: a small tea shop, enough products to fill a cart."""

from decimal import Decimal

from django.db import migrations

CATALOG = [
    ("TEA-001", "Assam Breakfast", "Malty black tea from the Brahmaputra valley, 100 g.", "7.50"),
    ("TEA-002", "Darjeeling First Flush", "Light, floral spring picking, 50 g.", "12.90"),
    ("TEA-003", "Sencha Asatsuyu", "Steamed Japanese green tea, grassy and sweet, 80 g.", "11.20"),
    ("TEA-004", "Jasmine Pearls", "Green tea rolled by hand and scented with jasmine, 50 g.", "9.80"),
    ("TEA-005", "Tieguanyin Oolong", "Lightly oxidised oolong with an orchid finish, 75 g.", "14.00"),
    ("TEA-006", "Lapsang Souchong", "Pine-smoked black tea for the campfire mood, 100 g.", "8.40"),
    ("TEA-007", "Rooibos Vanilla", "Caffeine-free red bush with vanilla, 100 g.", "6.20"),
    ("TEA-008", "Peppermint Leaves", "Whole dried peppermint, 40 g.", "4.90"),
    ("TEA-009", "Matcha Ceremonial", "Stone-ground tencha from Uji, 30 g tin.", "24.00"),
    ("TEA-010", "Earl Grey Supreme", "Black tea with bergamot and cornflower petals, 100 g.", "8.90"),
    ("ACC-001", "Glass Teapot", "Heat-resistant 800 ml pot with a steel infuser.", "29.00"),
    ("ACC-002", "Kyusu", "Japanese side-handle clay teapot, 300 ml.", "45.00"),
    ("ACC-003", "Bamboo Whisk", "Chasen with 100 prongs for matcha.", "16.50"),
    ("ACC-004", "Tea Tin", "Airtight tin for 100 g of leaves.", "5.50"),
]


def add_catalog(apps, schema_editor):
    Product = apps.get_model("cart", "Product")
    for sku, name, description, price in CATALOG:
        Product.objects.update_or_create(
            sku=sku, defaults={"name": name, "description": description, "price": Decimal(price)}
        )


def remove_catalog(apps, schema_editor):
    Product = apps.get_model("cart", "Product")
    Product.objects.filter(sku__in=[row[0] for row in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("cart", "0001_initial")]
    operations = [migrations.RunPython(add_catalog, remove_catalog)]
