from django.urls import path

from cart import api

urlpatterns = [
    path("products", api.products, name="api-products"),
    path("cart", api.cart, name="api-cart"),
    path("cart/items", api.cart_items, name="api-cart-items"),
    path("cart/items/<str:sku>", api.cart_item, name="api-cart-item"),
    path("session", api.session, name="api-session"),
]
