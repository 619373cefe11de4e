// Progressive enhancement for the application pages; every form works without it.
// A form marked data-once is sent once: a second click while the first request is on its way
// does nothing (the server is idempotent anyway, this only spares the second request).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-once")) return;
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
  }, 0);
});
// The courier address is only asked for when courier delivery is chosen.
function syncAddress() {
  var row = document.querySelector("[data-show-for=courier]");
  if (!row) return;
  var chosen = document.querySelector("input[name=delivery_method]:checked");
  var courier = chosen && chosen.value === "courier";
  row.hidden = !courier;
  var area = row.querySelector("textarea");
  if (area) area.required = courier;
}
document.addEventListener("change", function (e) { if (e.target.name === "delivery_method") syncAddress(); });
document.addEventListener("DOMContentLoaded", syncAddress);
