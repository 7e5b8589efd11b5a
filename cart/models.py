from functools import lru_cache

from django.contrib.staticfiles import finders
from django.db import models

ILLUSTRATION_FOLDER = "cart/products"
DEFAULT_ILLUSTRATION = f"{ILLUSTRATION_FOLDER}/default.svg"


@lru_cache(maxsize=256)
def illustration_for(sku: str) -> str:
    """The static path of a product's SVG: ``cart/products/<sku>.svg``, or a generic leaf when none was drawn."""
    path = f"{ILLUSTRATION_FOLDER}/{sku.lower()}.svg"
    return path if finders.find(path) else DEFAULT_ILLUSTRATION


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # The product page's text: a few paragraphs, separated by blank lines.
    long_description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def illustration(self) -> str:
        return illustration_for(self.sku)
