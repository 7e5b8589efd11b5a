// Carting without a page reload, over the JSON API (progressive enhancement).
//
// Every action on the catalog, product and cart pages is a plain POST form that works without
// JavaScript. Where this script runs it sends the same action to the JSON API instead, updates
// the page in place (the header count, the cart's lines and totals) and says what happened,
// naming the product; the page does not reload, so it does not jump back to the top.
// If the API cannot be reached, or refuses the CSRF token, the form is submitted as it would
// have been without JavaScript, so the server's own page has the last word.
(function () {
  "use strict";

  var MIN_QUANTITY = 1;
  var MAX_QUANTITY = 99;
  var MESSAGE_SECONDS = 8;

  // --- Talking to the API ---------------------------------------------------------

  function cookie(name) {
    var found = document.cookie.split(";").map(function (part) { return part.trim(); })
      .filter(function (part) { return part.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.substring(name.length + 1)) : "";
  }

  // The cookie, not the form's hidden field: a login in another tab rotates the token, and
  // the cookie always holds the current one.
  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return cookie("csrftoken") || (field ? field.value : "");
  }

  function FallBack(reason) { this.reason = reason; }

  // Requests go one after another, so their answers are applied in the order they were asked.
  var queue = Promise.resolve();

  function api(method, url, body, form) {
    var run = function () {
      var options = {
        method: method,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
      };
      if (body !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(body);
      }
      return fetch(url, options).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (data === null) throw new FallBack("The server answered " + response.status + " without JSON.");
          if (response.status === 403) throw new FallBack(data.error || "Forbidden.");
          return { ok: response.ok, status: response.status, data: data };
        });
      }, function (error) { throw new FallBack(error.message); });
    };
    queue = queue.then(run, run);
    return queue;
  }

  function itemUrl(sku) { return "/api/cart/items/" + encodeURIComponent(sku); }

  // --- What the page shows ----------------------------------------------------------

  var messageTimer = null;

  function showMessage(text, kind) {
    var list = document.getElementById("messages");
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    var item = document.createElement("li");
    item.className = "message " + kind;
    item.textContent = text;
    list.appendChild(item);
    window.clearTimeout(messageTimer);
    messageTimer = window.setTimeout(function () {
      if (item.parentNode === list) list.removeChild(item);
    }, MESSAGE_SECONDS * 1000);
  }

  function showCount(count) {
    var badge = document.getElementById("cart-count");
    if (!badge) return;
    badge.textContent = String(count);
    badge.classList.remove("bump");
    void badge.offsetWidth; // restart the animation
    badge.classList.add("bump");
  }

  function itemOf(cart, sku) {
    return cart.items.filter(function (item) { return item.sku === sku; })[0] || null;
  }

  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  // The cart page's lines and totals, from the cart the API answered with.
  function showCart(cart) {
    showCount(cart.count);
    document.querySelectorAll("tr.cart-line").forEach(function (row) {
      var item = itemOf(cart, row.getAttribute("data-sku"));
      if (!item) { row.parentNode.removeChild(row); return; }
      var input = row.querySelector(".set-quantity input[name=quantity]");
      if (input && document.activeElement !== input) input.value = String(item.quantity);
      row.querySelector(".line-total").textContent = "€" + item.line_total;
      row.querySelector(".step-down").disabled = item.quantity <= MIN_QUANTITY;
      row.querySelector(".step-up").disabled = item.quantity >= MAX_QUANTITY;
    });
    var items = document.getElementById("cart-items");
    if (items) items.textContent = plural(cart.count, "item");
    var total = document.getElementById("cart-total");
    if (total) total.textContent = "€" + cart.total;
    var contents = document.getElementById("cart-contents");
    var empty = document.getElementById("cart-empty");
    if (contents && empty) {
      contents.hidden = cart.items.length === 0;
      empty.hidden = cart.items.length !== 0;
    }
    var held = document.getElementById("in-cart");
    if (held) {
      var line = itemOf(cart, held.getAttribute("data-sku"));
      held.textContent = line ? "Your cart holds " + line.quantity + " of these." : "";
    }
  }

  // --- Forms ------------------------------------------------------------------------

  // Send a form's action to the API; ``describe(cart)`` says what happened when it worked.
  function enhance(form, request, describe) {
    form.addEventListener("submit", function (event) {
      var call = request(form);
      if (!call) return; // nothing the API can do: let the form go
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.setAttribute("aria-busy", "true");
      api(call[0], call[1], call[2], form)
        .then(function (answer) {
          if (!answer.ok) { showMessage(answer.data.error || "That did not work; try again.", "error"); return; }
          showCart(answer.data);
          showMessage(describe(answer.data), "success");
        })
        .catch(function (problem) {
          if (!(problem instanceof FallBack)) throw problem;
          HTMLFormElement.prototype.submit.call(form); // the page the server would have shown
        })
        .then(function () { if (button) button.removeAttribute("aria-busy"); });
    });
  }

  function quantityOf(form) { return Number(form.querySelector("input[name=quantity]").value); }

  function nameOf(element) { return element.getAttribute("data-name"); }

  function held(cart, sku, name) {
    var item = itemOf(cart, sku);
    return item ? item.quantity + " of " + item.name : "none of " + name;
  }

  // − and + beside a quantity box that is sent with a form (catalog and product pages).
  function addSteppers(input) {
    var wrapper = document.createElement("span");
    wrapper.className = "stepper";
    input.parentNode.insertBefore(wrapper, input);
    var label = input.id ? document.querySelector("label[for='" + input.id + "']") : null;
    var what = label ? label.textContent.replace(/^How many /, "") : "";
    [["−", -1, "One fewer " + what], ["+", 1, "One more " + what]].forEach(function (spec, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "step " + (spec[1] < 0 ? "step-down" : "step-up");
      button.textContent = spec[0];
      button.setAttribute("aria-label", spec[2].trim());
      button.addEventListener("click", function () {
        var value = Math.min(MAX_QUANTITY, Math.max(MIN_QUANTITY, (Number(input.value) || MIN_QUANTITY) + spec[1]));
        input.value = String(value);
      });
      if (index === 0) { wrapper.appendChild(button); wrapper.appendChild(input); } else wrapper.appendChild(button);
    });
  }

  function setUpAddForms() {
    document.querySelectorAll("form.add-to-cart").forEach(function (form) {
      var sku = form.getAttribute("data-sku");
      addSteppers(form.querySelector("input[name=quantity]"));
      enhance(
        form,
        function () { return ["POST", "/api/cart/items", { sku: sku, quantity: quantityOf(form) }]; },
        function (cart) { return "Added to your cart: you now have " + held(cart, sku, nameOf(form)) + "."; }
      );
    });
  }

  function setUpCartLines() {
    document.querySelectorAll("tr.cart-line").forEach(function (row) {
      var sku = row.getAttribute("data-sku"), name = nameOf(row);
      var setForm = row.querySelector("form.set-quantity");
      var now = function (cart) { return "Your cart now holds " + held(cart, sku, name) + "."; };
      row.querySelectorAll("form.step-form").forEach(function (form) {
        var step = Number(form.querySelector("input[name=step]").value);
        enhance(form, function () {
          var input = setForm.querySelector("input[name=quantity]");
          var quantity = quantityOf(setForm) + step;
          if (quantity < MIN_QUANTITY || quantity > MAX_QUANTITY) return null;
          input.value = String(quantity); // shown at once; the answer confirms it
          if (step > 0) return ["POST", "/api/cart/items", { sku: sku, quantity: 1 }]; // atomic: every click lands
          return ["PUT", itemUrl(sku), { quantity: quantity }];
        }, now);
      });
      enhance(setForm, function () { return ["PUT", itemUrl(sku), { quantity: quantityOf(setForm) }]; }, now);
      // Typing a quantity saves it when the box is left; the Update button is for pages without JavaScript.
      var update = setForm.querySelector(".update");
      if (update) update.hidden = true;
      setForm.querySelector("input[name=quantity]").addEventListener("change", function () {
        if (setForm.reportValidity()) setForm.requestSubmit();
      });
      enhance(
        row.querySelector("form.remove-form"),
        function () { return ["DELETE", itemUrl(sku)]; },
        function () { return "Removed " + name + " from your cart."; }
      );
    });
  }

  // "Empty the cart…" leads to a confirmation page without JavaScript; here it asks in a dialog.
  function setUpEmptying() {
    var link = document.getElementById("empty-cart");
    var dialog = document.getElementById("confirm-empty-dialog");
    if (!link || !dialog || typeof dialog.showModal !== "function") return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "empty") return;
      api("DELETE", "/api/cart")
        .then(function (answer) {
          if (!answer.ok) { showMessage(answer.data.error || "That did not work; try again.", "error"); return; }
          showCart(answer.data);
          showMessage("Your cart is empty.", "success");
        })
        .catch(function (problem) {
          if (!(problem instanceof FallBack)) throw problem;
          window.location.assign(link.href);
        });
    });
  }

  function start() {
    setUpAddForms();
    setUpCartLines();
    setUpEmptying();
    document.documentElement.setAttribute("data-cart-ready", "true");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
