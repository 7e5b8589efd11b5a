from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/revoke/<str:digest>/", views.revoke, name="revoke"),
    path("sessions/revoke-others/", views.revoke_others, name="revoke_others"),
    path("sessions/revoke-all/", views.revoke_all, name="revoke_all"),
]
