// The llamapilot playground: a textarea over a mirror that shows ghost text at the cursor.
// No framework, no CDN. Every model-made string goes into the page with textContent.
"use strict";

(function () {
  const code = document.getElementById("code");
  const mirror = document.getElementById("mirror");
  const statusEl = document.getElementById("status");
  const promptEl = document.getElementById("prompt");
  const sourcesEl = document.getElementById("sources");
  const statsEl = document.getElementById("stats");
  const pathEl = document.getElementById("path");
  const session = "playground-" + Math.random().toString(36).slice(2);
  const DEBOUNCE_MS = 250;

  let suggestion = null; // {text, tokens, at}
  let timer = null;
  let inflight = null;

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "muted";
  }

  function cursorPosition(text, offset) {
    const before = text.slice(0, offset);
    const lines = before.split("\n");
    return { line: lines.length - 1, character: lines[lines.length - 1].length };
  }

  function render() {
    const text = code.value;
    mirror.textContent = "";
    if (suggestion && suggestion.at === code.selectionStart && code.selectionStart === code.selectionEnd) {
      mirror.appendChild(document.createTextNode(text.slice(0, suggestion.at)));
      const ghost = document.createElement("span");
      ghost.className = "ghost";
      ghost.id = "ghost";
      for (const tok of suggestion.tokens) {
        const span = document.createElement("span");
        const p = Math.exp(tok.logprob);
        span.className = "tok c" + Math.min(4, Math.floor(p * 5));
        span.textContent = tok.text;
        span.dataset.p = p.toFixed(3);
        const alts = (tok.top || []).map((a) => JSON.stringify(a.text) + " " + Math.exp(a.logprob).toFixed(2));
        span.title = "p=" + p.toFixed(2) + (alts.length ? "\nalternatives: " + alts.join(", ") : "");
        ghost.appendChild(span);
      }
      mirror.appendChild(ghost);
      mirror.appendChild(document.createTextNode(text.slice(suggestion.at)));
    } else {
      mirror.textContent = text;
    }
    mirror.appendChild(document.createTextNode("\n")); // keep a trailing newline visible
    mirror.scrollTop = code.scrollTop;
  }

  function clearSuggestion() {
    suggestion = null;
    render();
  }

  function showDetails(result) {
    promptEl.textContent = result.prompt;
    sourcesEl.textContent = "";
    for (const s of result.sources) {
      const li = document.createElement("li");
      li.textContent = s.kind + ": " + (s.path || "(unsaved)") + " lines " + s.start_line + "–" + s.end_line;
      sourcesEl.appendChild(li);
    }
    statsEl.textContent = "";
    const rows = [
      ["confidence", (result.confidence * 100).toFixed(1) + "%"],
      ["tokens", String(result.tokens.length)],
      ["template", result.template],
      ["time", result.timings.total_ms.toFixed(0) + " ms"],
      ["stop", result.stop_reason],
    ];
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      statsEl.append(dt, dd);
    }
  }

  async function requestSuggestion() {
    if (code.selectionStart !== code.selectionEnd) return;
    const at = code.selectionStart;
    const text = code.value;
    if (inflight) inflight.abort();
    const controller = new AbortController();
    inflight = controller;
    setStatus("thinking…");
    try {
      const res = await fetch("/v1/llamapilot/complete", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Llamapilot-Session": session },
        body: JSON.stringify({ text, cursor: cursorPosition(text, at), path: pathEl.value || null, session, n_top: 3 }),
        signal: controller.signal,
      });
      if (res.status === 409) return; // superseded by a newer request
      const body = await res.json();
      if (!res.ok) {
        setStatus((body.error && body.error.message) || "error " + res.status, true);
        return;
      }
      if (code.value !== text || code.selectionStart !== at) return; // the user moved on
      showDetails(body);
      if (body.text) {
        suggestion = { text: body.text, tokens: body.tokens, at };
        setStatus("suggestion ready (Tab accepts)");
      } else {
        suggestion = null;
        setStatus("no suggestion here");
      }
      render();
    } catch (err) {
      if (err.name !== "AbortError") setStatus("request failed: " + err.message, true);
    } finally {
      if (inflight === controller) inflight = null;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(requestSuggestion, DEBOUNCE_MS);
  }

  function insertAtCursor(text) {
    const start = code.selectionStart;
    code.setRangeText(text, start, code.selectionEnd, "end");
  }

  code.addEventListener("input", () => {
    clearSuggestion();
    schedule();
  });
  code.addEventListener("keydown", (ev) => {
    if (ev.key === "Tab" && !ev.shiftKey) {
      ev.preventDefault();
      if (suggestion && suggestion.at === code.selectionStart) {
        const text = suggestion.text;
        suggestion = null;
        insertAtCursor(text);
        setStatus("accepted");
        render();
        schedule();
      } else {
        insertAtCursor("    ");
        clearSuggestion();
        schedule();
      }
    } else if (ev.key === "Escape") {
      clearSuggestion();
      setStatus("dismissed");
    }
  });
  code.addEventListener("scroll", () => { mirror.scrollTop = code.scrollTop; });
  code.addEventListener("click", () => { if (suggestion && suggestion.at !== code.selectionStart) clearSuggestion(); });

  fetch("/health").then((r) => r.json()).then((h) => {
    document.getElementById("model").textContent = h.status === "ok" ? "model: " + h.model : h.status;
  }).catch(() => { document.getElementById("model").textContent = "server unreachable"; });
  render();
})();
