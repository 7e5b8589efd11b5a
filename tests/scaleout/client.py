"""A shopper talking to the cluster through the proxy, as a script would: cookies, CSRF, JSON API and forms."""

from __future__ import annotations

import itertools
from collections import Counter

import requests

_usernames = itertools.count(1)


def new_username(prefix: str = "shopper") -> str:
    import uuid

    return f"{prefix}-{next(_usernames)}-{uuid.uuid4().hex[:8]}"


PASSWORD = "scale-out-Drill-2026!"


class SiteClient:
    """One browser-like session (one cookie jar) against ``base_url``; remembers who served each response."""

    def __init__(self, base_url: str, ca_file: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.ca_file = ca_file
        self.timeout = timeout
        self.served_by: Counter[str] = Counter()

    # --- plumbing ----------------------------------------------------------------
    def request(self, method: str, path: str, **options) -> requests.Response:
        headers = {"Referer": f"{self.base_url}/", **options.pop("headers", {})}
        if method not in ("GET", "HEAD") and self.csrf_token:
            headers.setdefault("X-CSRFToken", self.csrf_token)
        # verify per request: a session-wide verify loses to REQUESTS_CA_BUNDLE in requests.
        response = self.http.request(
            method, self.base_url + path, headers=headers, timeout=self.timeout, verify=self.ca_file, **options
        )
        for answer in [*response.history, response]:
            if "X-Served-By" in answer.headers:
                self.served_by[answer.headers["X-Served-By"]] += 1
        return response

    @property
    def csrf_token(self) -> str | None:
        return self.http.cookies.get("csrftoken")

    @property
    def session_cookie(self) -> str | None:
        return self.http.cookies.get("sessionid")

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    # --- JSON API ----------------------------------------------------------------
    def session(self) -> dict:
        response = self.request("GET", "/api/session")
        response.raise_for_status()
        return response.json()

    def skus(self) -> list[str]:
        response = self.request("GET", "/api/products")
        response.raise_for_status()
        return [product["sku"] for product in response.json()["products"]]

    def add(self, sku: str, quantity: int = 1) -> requests.Response:
        if not self.csrf_token:
            self.session()
        return self.request("POST", "/api/cart/items", json={"sku": sku, "quantity": quantity})

    def cart(self) -> dict:
        response = self.request("GET", "/api/cart")
        response.raise_for_status()
        return response.json()

    def quantities(self) -> dict[str, int]:
        return {item["sku"]: item["quantity"] for item in self.cart()["items"]}

    # --- forms -------------------------------------------------------------------
    def submit_form(self, path: str, fields: dict[str, str]) -> requests.Response:
        self.request("GET", path).raise_for_status()  # sets the csrftoken cookie
        return self.request("POST", path, data={"csrfmiddlewaretoken": self.csrf_token, **fields})

    def sign_up(self, username: str, password: str = PASSWORD) -> None:
        response = self.submit_form(
            "/accounts/signup/", {"username": username, "password1": password, "password2": password}
        )
        response.raise_for_status()
        self._expect_signed_in(username, "sign-up")

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        response = self.submit_form("/accounts/login/", {"username": username, "password": password})
        response.raise_for_status()
        self._expect_signed_in(username, "log-in")

    def log_out(self) -> None:
        response = self.request("POST", "/accounts/logout/", data={"csrfmiddlewaretoken": self.csrf_token})
        response.raise_for_status()

    def _expect_signed_in(self, username: str, step: str) -> None:
        state = self.session()
        assert state["authenticated"] and state["username"] == username, f"The {step} did not sign in: {state}"
