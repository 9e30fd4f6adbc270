// The live log tail: while a session runs, the log is streamed (fetch with a reader, the cookie as the
// credential) and appended as text; the pre stays scrolled to the end unless the reader scrolled up.
export function followLog(pre) {
  const url = pre?.dataset.follow;
  if (!url || !window.fetch || !window.TextDecoder) return;
  const decoder = new TextDecoder();
  fetch(url, { credentials: "same-origin" }).then(async (response) => {
    if (!response.ok || !response.body) return;
    pre.textContent = "";
    pre.dataset.following = "true";
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(document.createTextNode(decoder.decode(value, { stream: true })));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
    pre.dataset.following = "done";
  }).catch(() => {});
}
