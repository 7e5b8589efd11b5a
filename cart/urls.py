from django.urls import path, register_converter

from cart import views


class SkuConverter:
    """A sku as the catalog stores it: up to 32 characters, no control characters.

    Anything else names no product, so it is a 404 before the database is asked: a NUL,
    which PostgreSQL's text type refuses with an error, never reaches a query.
    """

    regex = r"[^/\x00-\x1f\x7f]{1,32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SkuConverter, "sku")

app_name = "cart"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<sku:sku>/", views.product_page, name="product"),
    path("cart/", views.cart_page, name="cart"),
    path("cart/add/<sku:sku>/", views.add, name="add"),
    path("cart/step/<sku:sku>/", views.step, name="step"),
    path("cart/set/<sku:sku>/", views.set_quantity, name="set"),
    path("cart/remove/<sku:sku>/", views.remove, name="remove"),
    path("cart/clear/", views.clear, name="clear"),
]
