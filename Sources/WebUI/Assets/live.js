// Live updates for pages that read without JavaScript: the namespace's Server-Sent Events (through this
// origin, with the session cookie) tell the page that something changed; the page then fetches itself again
// and swaps the regions it names in data-refresh. All markup comes from the server, escaped there: nothing
// from an event is ever written as HTML.
import { followLog } from "./log.js";

const main = document.getElementById("main");

function refresh(ids, changedId) {
  return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then((response) => (response.ok ? response.text() : Promise.reject(new Error(String(response.status)))))
    .then((text) => {
      const next = new DOMParser().parseFromString(text, "text/html");
      for (const id of ids) {
        const now = document.getElementById(id);
        const fresh = next.getElementById(id);
        if (now && fresh) now.replaceWith(document.importNode(fresh, true));
      }
      if (changedId) document.getElementById("session-" + changedId)?.classList.add("changed");
      document.dispatchEvent(new CustomEvent("tenantry:refreshed"));
    })
    .catch(() => {});
}

function listen() {
  const url = main?.dataset.events;
  if (!url || !("EventSource" in window)) return;
  const ids = (main.dataset.refresh || "").split(" ").filter(Boolean);
  const only = main.dataset.session;
  const source = new EventSource(url);
  let pending = null;
  const later = (changed) => {
    // Several events in a burst make one refetch.
    clearTimeout(pending);
    pending = setTimeout(() => refresh(ids, changed), 150);
  };
  const onChange = (event) => {
    let changed = null;
    try { changed = JSON.parse(event.data).session?.id ?? null; } catch { changed = null; }
    if (only && changed !== only) return;
    later(changed);
  };
  for (const name of ["created", "phase", "approval", "artifact", "deleted"]) source.addEventListener(name, onChange);
  // A snapshot (the first, or after a reconnect the server could not resume) may be newer than the page, which was
  // rendered before the stream opened: a change in between would otherwise be missed.
  source.addEventListener("snapshot", () => later(null));
  source.addEventListener("forbidden", () => { source.close(); document.body.dataset.live = "closed"; });
  document.body.dataset.live = "connecting";
  source.addEventListener("open", () => { document.body.dataset.live = "open"; });
}

listen();
followLog(document.getElementById("log"));
