"""The product pages' text: where each tea comes from, how it tastes, and how to brew it."""

from django.db import migrations

LONG_DESCRIPTIONS = {
    "TEA-001": (
        "Grown on the flat, hot plains of the Brahmaputra valley, Assam is the tea most breakfast blends are built on: "
        "full-bodied, malty, with a brisk finish that stands up to milk.\n\n"
        "Brew one teaspoon per cup with freshly boiled water for 3 to 4 minutes. Add milk if you like; "
        "it takes sugar well too."
    ),
    "TEA-002": (
        "The first leaves of spring, picked in March on the slopes below Kanchenjunga. First flush Darjeeling is "
        "barely oxidised, golden-green in the cup, with a floral, muscatel lift and very little astringency.\n\n"
        "Brew at 85 to 90 °C for 2 to 3 minutes, without milk, to keep its delicacy. "
        "The leaves give a good second cup."
    ),
    "TEA-003": (
        "Asatsuyu means morning dew: a naturally sweet cultivar from Kagoshima, steamed right after picking to keep "
        "its colour and its grassy, sweet, slightly marine taste.\n\n"
        "Use water well below boiling (70 to 75 °C) for about a minute. Hotter water turns it bitter; "
        "cooler water brings out its sweetness. Three infusions are common."
    ),
    "TEA-004": (
        "Young green tea leaves and buds are rolled by hand into small pearls, then layered with fresh jasmine "
        "blossoms overnight, several nights running, until the tea has taken their scent.\n\n"
        "Brew six to eight pearls per cup at 80 °C for 2 to 3 minutes and watch them unfurl. "
        "They give three or four infusions."
    ),
    "TEA-005": (
        "Tieguanyin, the Iron Goddess of Mercy, comes from Anxi in Fujian. This lightly oxidised version is rolled "
        "into tight jade-green balls and tastes of orchid and fresh butter, with a long, sweet finish.\n\n"
        "Brew at 90 to 95 °C. In a small pot or gaiwan, short infusions of 30 to 60 seconds, many times over; "
        "in a mug, 3 minutes."
    ),
    "TEA-006": (
        "From the Wuyi mountains, where the leaves are withered and dried over smouldering pinewood. The smoke "
        "gives it its famous campfire aroma over a sweet, longan-like black tea.\n\n"
        "Brew at boiling for 3 to 4 minutes. Good on its own, with milk, or as a smoky note in a blend "
        "with a plainer black tea."
    ),
    "TEA-007": (
        "Rooibos, the red bush of South Africa's Cederberg, is not tea at all: it has no caffeine and little "
        "tannin, so it never turns bitter. Here it is blended with pieces of real vanilla.\n\n"
        "Brew at boiling for 5 minutes or longer; a long steep only makes it rounder. Lovely with a splash of milk, "
        "hot or iced."
    ),
    "TEA-008": (
        "Whole, unbroken peppermint leaves, dried slowly so they keep their oils. Bright, cooling and naturally "
        "caffeine-free: the after-dinner cup.\n\n"
        "Brew a heaped teaspoon with boiling water for 5 to 8 minutes, covered, so the aroma stays in the cup."
    ),
    "TEA-009": (
        "Ceremonial-grade matcha from Uji: shaded tencha leaves, stone-ground to a fine powder. Deep green, "
        "creamy and sweet, with umami and no harshness.\n\n"
        "Sift 2 g into a bowl, add 70 ml of water at 75 to 80 °C and whisk briskly in a zigzag with a chasen "
        "until a fine foam forms. Keep the tin closed and cool once opened."
    ),
    "TEA-010": (
        "A bright black tea scented with the oil of bergamot, a Calabrian citrus, and finished with blue "
        "cornflower petals. Citrus first, then a smooth, round cup.\n\n"
        "Brew at boiling for 3 to 4 minutes. Try it with a slice of lemon, or with milk as the English do."
    ),
    "ACC-001": (
        "An 800 ml pot of borosilicate glass, so you can watch the leaves open, with a fine stainless steel "
        "infuser that lifts out when the tea is ready.\n\n"
        "It goes on a gentle gas flame and in the dishwasher; the infuser's mesh holds back even small leaves "
        "such as rooibos."
    ),
    "ACC-002": (
        "The kyusu is the Japanese green-tea pot: a side handle for one-handed pouring and a built-in clay "
        "filter at the spout. This one is unglazed Tokoname clay and holds 300 ml, two small cups.\n\n"
        "Rinse it with hot water only, never soap: the clay slowly takes on the character of the tea."
    ),
    "ACC-003": (
        "A chasen carved from a single piece of bamboo into a hundred fine prongs: the tool that turns matcha "
        "and water into a smooth, foamy tea.\n\n"
        "Soak it in warm water for a minute before whisking so the prongs are supple, and let it dry "
        "upright afterwards."
    ),
    "ACC-004": (
        "An airtight tin with a double lid, big enough for 100 g of leaves. Tea keeps its aroma for months "
        "away from light, air and the smell of the spice cupboard.\n\n"
        "Stackable, and plain enough to label with a marker."
    ),
}


def add_long_descriptions(apps, schema_editor):
    Product = apps.get_model("cart", "Product")
    for sku, text in LONG_DESCRIPTIONS.items():
        Product.objects.filter(sku=sku).update(long_description=text)


def remove_long_descriptions(apps, schema_editor):
    Product = apps.get_model("cart", "Product")
    Product.objects.filter(sku__in=LONG_DESCRIPTIONS).update(long_description="")


class Migration(migrations.Migration):
    dependencies = [("cart", "0003_product_long_description")]
    operations = [migrations.RunPython(add_long_descriptions, remove_long_descriptions)]
