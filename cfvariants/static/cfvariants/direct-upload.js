/* cfvariants: direct creator uploads from the browser, no framework.
 *
 * Markup (rendered by the Django widget or the Flask helper):
 *   <div data-cfv-direct-upload data-issue-url="..." data-max-bytes="...">
 *     <input type="file" accept="image/*">          (no name: the file itself is never posted to the app)
 *     <input type="hidden" name="image">            (receives the signed ticket once the upload is done)
 *     <progress max="1" value="0" hidden></progress> <output data-cfv-status></output>
 *   </div>
 * On choosing a file: POST issue-url (the app asks Cloudflare for a one-time upload URL), then POST the file
 * to that URL (multipart, field "file") with a progress bar, then put the ticket in the hidden field. The form
 * cannot be submitted while an upload is running. The container's data-state is idle, uploading, done or error.
 */
(function () {
  "use strict";

  function setup(root) {
    if (root.getAttribute("data-cfv-ready")) return;
    root.setAttribute("data-cfv-ready", "1");
    var input = root.querySelector("input[type=file]");
    var ticket = root.querySelector("input[type=hidden]");
    var bar = root.querySelector("progress");
    var status = root.querySelector("[data-cfv-status]");
    var issueUrl = root.getAttribute("data-issue-url");
    var maxBytes = parseInt(root.getAttribute("data-max-bytes") || "0", 10);
    var form = root.closest("form");
    var running = null;

    function say(text, state) {
      if (status) status.textContent = text;
      root.setAttribute("data-state", state);
    }

    function csrfToken() {
      var field = form && form.querySelector("input[name=csrf_token], input[name=csrfmiddlewaretoken]");
      if (field) return field.value;
      var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      return match ? decodeURIComponent(match[1]) : "";
    }

    function fail(text) {
      running = null;
      ticket.value = "";
      if (bar) bar.hidden = true;
      say(text, "error");
    }

    function post(url, body, headers, onProgress) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
        if (onProgress) {
          xhr.upload.onprogress = function (event) {
            if (event.lengthComputable) onProgress(event.loaded / event.total);
          };
        }
        xhr.onload = function () {
          var data = null;
          try { data = JSON.parse(xhr.responseText); } catch (ignored) { data = null; }
          if (xhr.status >= 200 && xhr.status < 300) resolve(data);
          else reject(new Error(explain(data, xhr.status)));
        };
        xhr.onerror = function () { reject(new Error("the connection failed")); };
        running = xhr;
        xhr.send(body);
      });
    }

    function explain(data, status) {
      if (data && data.error) return data.error;
      if (data && data.errors && data.errors.length) return data.errors[0].message;
      return "HTTP " + status;
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (running) running.abort();
      ticket.value = "";
      if (!file) { say("", "idle"); return; }
      if (maxBytes && file.size > maxBytes) {
        input.value = "";
        fail("This file is larger than " + Math.floor(maxBytes / 1e6) + " MB.");
        return;
      }
      say("Preparing the upload…", "uploading");
      var given = null;
      post(issueUrl, null, { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" })
        .then(function (issued) {
          given = issued;
          var body = new FormData();
          body.append("file", file);
          if (bar) { bar.hidden = false; bar.value = 0; }
          say("Uploading… 0 %", "uploading");
          return post(issued.uploadURL, body, {}, function (fraction) {
            if (bar) bar.value = fraction;
            say("Uploading… " + Math.round(fraction * 100) + " %", "uploading");
          });
        })
        .then(function () {
          running = null;
          ticket.value = given.token;
          if (bar) bar.value = 1;
          say("Uploaded.", "done");
        })
        .catch(function (error) { fail("The upload failed: " + error.message); });
    });

    if (form) {
      form.addEventListener("submit", function (event) {
        if (running) {
          event.preventDefault();
          say("Please wait for the upload to finish.", "uploading");
        }
      });
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-cfv-direct-upload]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
