// Double-submit guard (progressive enhancement; the server is idempotent without it):
// a form marked data-submit-once disables its submit button once it is sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  var buttons = form.querySelectorAll("button[type=submit]");
  for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("aria-disabled", "true");
});
