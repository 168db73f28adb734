// The live consortium check of the call's application form: while the applicant types,
// the form's fields (not its file) are sent to the server's check endpoint, which runs the
// call's own rules, and each broken rule is listed with how to fix it. Served from the
// package; no inline script, so it passes the portal's Content-Security-Policy.
(function () {
  "use strict";
  var DELAY_MS = 300;

  function fields(form) {
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string" && key !== "csrf_token") body.append(key, value);
    });
    return body;
  }

  function item(text, kind) {
    var li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    return li;
  }

  function show(section, result) {
    var list = section.querySelector(".check-list");
    var status = section.querySelector(".check-status");
    list.replaceChildren();
    result.problems.forEach(function (p) {
      list.appendChild(item(p.field + ": " + p.message, "check-problem"));
    });
    result.broken.forEach(function (b) {
      var where = b.partner === null ? "" : " (partner " + b.partner + ")";
      list.appendChild(item(b.rule + where + ": " + b.message, "check-broken"));
    });
    var count = result.problems.length + result.broken.length;
    status.textContent = result.ok
      ? "The consortium meets every rule of the call checked here."
      : count + (count === 1 ? " thing to fix:" : " things to fix:");
    section.classList.toggle("check-ok", result.ok);
  }

  function watch(form) {
    var section = document.getElementById(form.dataset.target);
    var timer = null;
    var sent = 0;
    function run() {
      var mine = ++sent;
      fetch(form.dataset.check, { method: "POST", body: fields(form), credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("the check answered " + response.status);
          return response.json();
        })
        .then(function (result) { if (mine === sent) show(section, result); })
        .catch(function (error) {
          section.querySelector(".check-status").textContent = "The check is unavailable: " + error.message;
        });
    }
    function later() { clearTimeout(timer); timer = setTimeout(run, DELAY_MS); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    run();
  }

  document.querySelectorAll("form.proposal-form[data-check]").forEach(watch);
})();
