"""The shopper's journey for locust: browse, add to cart, view the cart, log out and back in.

Each simulated user signs up once (on_start) and then repeats the journey against the
proxy. Run it through ``python manage.py loadtest`` (which starts the cluster), or by hand:

    LOADTEST_CA_FILE=var/cluster/tls/ca.pem locust -f loadtest/locustfile.py --headless \\
        -u 20 -r 10 -t 30s --host https://127.0.0.1:8443
"""

from __future__ import annotations

import os
import random
import uuid

import urllib3
from locust import HttpUser, between, task

PASSWORD = "load-Test-journey-2026!"
# Carts are kept below the 99-per-line limit; past this many items the user empties the cart.
CART_LIMIT = 40


class Shopper(HttpUser):
    # Brisk shoppers: enough pressure on a 2-core machine to show where the time goes.
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        ca_file = os.environ.get("LOADTEST_CA_FILE")
        # Not the environment's CA bundle: this is the cluster's own local CA.
        self.client.trust_env = False
        self.client.verify = ca_file or False
        if not ca_file:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.username = f"load-{uuid.uuid4().hex[:12]}"
        self.skus = [product["sku"] for product in self.client.get("/api/products").json()["products"]]
        self.submit_form(
            "/accounts/signup/",
            {"username": self.username, "password1": PASSWORD, "password2": PASSWORD},
            name="/accounts/signup/ [POST]",
        )

    # --- the journey ---------------------------------------------------------------
    @task(4)
    def browse(self) -> None:
        self.client.get("/api/products")
        self.client.get("/")

    @task(4)
    def add_to_cart(self) -> None:
        with self.client.post(
            "/api/cart/items",
            json={"sku": random.choice(self.skus), "quantity": 1},
            headers=self.csrf_headers(),
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            elif response.json()["count"] >= CART_LIMIT:
                self.client.delete("/api/cart", headers=self.csrf_headers())

    @task(3)
    def view_cart(self) -> None:
        self.client.get("/api/cart")
        self.client.get("/cart/")

    @task(1)
    def log_out_and_back_in(self) -> None:
        self.client.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": self.csrf_token()},
            headers=self.csrf_headers(),
            name="/accounts/logout/ [POST]",
        )
        self.submit_form(
            "/accounts/login/", {"username": self.username, "password": PASSWORD}, name="/accounts/login/ [POST]"
        )

    # --- helpers -------------------------------------------------------------------
    def csrf_token(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def csrf_headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.csrf_token(), "Referer": f"{self.host}/"}

    def submit_form(self, path: str, fields: dict[str, str], name: str) -> None:
        self.client.get(path)
        with self.client.post(
            path,
            data={"csrfmiddlewaretoken": self.csrf_token(), **fields},
            headers=self.csrf_headers(),
            name=name,
            catch_response=True,
        ) as response:
            # Success redirects to the catalog; a form shown again means it was refused.
            if response.status_code != 200 or response.url.rstrip("/").endswith(path.rstrip("/")):
                response.failure(f"{path} did not sign in (status {response.status_code}).")
