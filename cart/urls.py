from django.urls import path

from cart import views

app_name = "cart"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<str:sku>/", views.product_page, name="product"),
    path("cart/", views.cart_page, name="cart"),
    path("cart/add/<str:sku>/", views.add, name="add"),
    path("cart/step/<str:sku>/", views.step, name="step"),
    path("cart/set/<str:sku>/", views.set_quantity, name="set"),
    path("cart/remove/<str:sku>/", views.remove, name="remove"),
    path("cart/clear/", views.clear, name="clear"),
]
