// The sales assistant's feedback form on a phone with a flaky connection: what is typed is kept on
// the phone until the server confirms it, a failed post can be resent (with the same submission
// reference, so the server stores it once), and it is resent by itself when the phone is back online.
(function () {
  var FIELDS = ["dealer_id", "feedback_date", "category", "urgency", "body", "submission_ref"];
  var pending = false;

  function form() { return document.getElementById("feedback-form"); }

  function save(f) {
    var draft = {};
    FIELDS.forEach(function (name) {
      var el = f.elements[name];
      if (el) draft[name] = el.value;
    });
    try { localStorage.setItem(f.dataset.draftKey, JSON.stringify(draft)); } catch (e) { /* private mode: nothing to keep */ }
  }

  function restore(f) {
    var text = null;
    try { text = localStorage.getItem(f.dataset.draftKey); } catch (e) { return; }
    if (!text) return;
    var draft;
    try { draft = JSON.parse(text); } catch (e) { return; }
    // Only an unsent note is restored; a blank one is not worth overwriting today's defaults for.
    if (!draft.body) return;
    FIELDS.forEach(function (name) {
      var el = f.elements[name];
      if (!el || draft[name] === undefined) return;
      if (el instanceof RadioNodeList) {
        Array.prototype.forEach.call(el, function (radio) { radio.checked = radio.value === draft[name]; });
      } else {
        el.value = draft[name];
      }
    });
  }

  function clear(f) {
    try { localStorage.removeItem(f.dataset.draftKey); } catch (e) { /* nothing kept */ }
  }

  function offline(show) {
    var banner = document.getElementById("feedback-offline");
    if (banner) banner.hidden = !show;
  }

  function send(f) {
    var button = f.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    save(f);
    fetch(f.action, { method: "POST", body: new FormData(f), credentials: "same-origin" })
      .then(function (response) {
        pending = false;
        offline(false);
        if (response.redirected) {
          clear(f);
          window.location.assign(response.url);
          return null;
        }
        return response.text().then(function (html) {
          // The server refused something: show its page (with the fields marked) in place.
          var doc = new DOMParser().parseFromString(html, "text/html");
          var main = doc.querySelector("main");
          if (main) document.querySelector("main").replaceWith(main);
          bind();
        });
      })
      .catch(function () {
        pending = true;
        offline(true);
        if (button) button.disabled = false;
      });
  }

  function bind() {
    var f = form();
    if (!f || f.dataset.bound) return;
    f.dataset.bound = "true";
    restore(f);
    f.addEventListener("input", function () { save(f); });
    f.addEventListener("change", function () { save(f); });
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      send(f);
    });
    var resend = document.getElementById("feedback-resend");
    if (resend) resend.addEventListener("click", function () { send(f); });
  }

  window.addEventListener("online", function () {
    var f = form();
    if (pending && f) send(f);
  });
  bind();
})();
