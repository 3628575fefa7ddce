// attest dashboard: the only script. Progressive enhancement: a filter <select> submits its form
// when changed (the Apply button does the same without JavaScript). No inline script anywhere:
// the Content-Security-Policy allows only this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select.auto").forEach(function (el) {
    el.addEventListener("change", function () {
      if (el.form) { el.form.submit(); }
    });
  });
});
