"""UI stage, page assets: the stylesheet and the one script the chat page runs.

The script never reads article text. It turns clicks on citation chips, "Open article" and
"Copy answer" buttons into small JSON actions written to a hidden textbox, which Gradio then
sends to Python like any other input; so all rendering stays on the server, escaped.
"""

from __future__ import annotations

CSS = """
.ui-hidden { display: none !important; }
#app-title h1 { margin: 0; font-size: 1.35rem; }
#app-title p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }
a.cite-chip {
  display: inline-block; min-width: 1.35em; padding: 0 .35em; margin: 0 1px;
  border-radius: .7em; background: var(--color-accent-soft); color: var(--color-accent) !important;
  font-size: .78em; font-weight: 600; line-height: 1.5; text-align: center; text-decoration: none !important;
  vertical-align: super; cursor: pointer; border: 1px solid var(--color-accent);
}
a.cite-chip:hover { background: var(--color-accent); color: white !important; }
.q-notes { margin-top: 4px; font-size: .8em; opacity: .8; }
/* no icon glyphs: an emoji font is not on every machine, and the notes say what they are in words */
.q-notes span { display: inline-block; border-left: 2px solid var(--color-accent); padding-left: 5px; }
.input-error { color: #b42318; font-size: .85em; margin: 2px 0 0; }
.input-error:empty { display: none; }
.facet-note { font-size: .8em; color: var(--body-text-color-subdued); margin: 0 0 6px; }
.a-warning { margin-top: 6px; font-size: .85em; color: #a15c00; }
/* the panels scroll inside themselves and fit the window, so nothing below them is pushed off-screen */
#sources-panel, #article-panel { max-height: calc(100vh - 230px); min-height: 240px; overflow-y: auto; }
.src-head { font-size: .85em; margin-bottom: 6px; color: var(--body-text-color-subdued); }
.src-card {
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin-bottom: 10px; transition: box-shadow .2s, border-color .2s;
}
.src-card.selected { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.src-title { font-weight: 600; }
.src-n {
  display: inline-block; min-width: 1.5em; margin-right: 6px; border-radius: .75em; text-align: center;
  background: var(--color-accent); color: white; font-size: .8em;
}
.src-meta { font-size: .8em; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.src-text, .art-text { white-space: pre-wrap; font-size: .9em; line-height: 1.5; }
.src-text mark, .art-text mark { background: #ffe066; color: black; padding: 0 1px; border-radius: 2px; }
.src-actions { margin-top: 6px; display: flex; gap: 6px; }
.src-card button, .src-actions button {
  font-size: .8em; padding: 2px 10px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); cursor: pointer;
}
.src-empty { color: var(--body-text-color-subdued); padding: 24px 4px; }
.art-url { font-size: .8em; word-break: break-all; margin-bottom: 6px; }
.index-info th { text-align: left; padding-right: 8px; font-weight: 500; }
.index-info td { word-break: break-all; }
/* laptop: the title and action rows stay compact so "Clear chat" and "Export" are above the fold */
#app-title { margin-bottom: 0; }
#actions { gap: 6px; }
footer { position: static !important; margin-top: 12px; }
/* phone: chat first, the sources under it; the filter drawer fits the screen with its close button */
#filter-error:not(:has(.input-error)), #ask-error:not(:has(.input-error)) { display: none; }
@media (max-width: 640px) {
  /* open, the drawer is the whole screen wide and Gradio's close button hangs over its right edge */
  #sidebar.open .toggle-button { translate: -16px 0; }  /* translate, not transform: Gradio rotates it */
  #sidebar:not(.open) .toggle-button { translate: 6px 0; }
  #sources-panel, #article-panel { max-height: 60vh; }
}
.error-page {
  max-width: 720px; margin: 60px auto; padding: 24px; border: 2px solid #d9534f; border-radius: 10px;
}
.error-page h2 { color: #d9534f; margin-top: 0; }
"""

JS = """
() => {
  const send = (payload) => {
    const box = document.querySelector('#ui-action textarea, #ui-action input');
    if (!box) return;
    box.value = JSON.stringify(Object.assign(payload, {t: Date.now()}));
    // after the click has finished, so Gradio sees a plain edit of the box
    setTimeout(() => box.dispatchEvent(new Event('input', {bubbles: true})), 0);
  };
  document.addEventListener('click', (e) => {
    const chip = e.target.closest('a.cite-chip');
    if (chip) {
      e.preventDefault(); e.stopPropagation();
      // the Chatbot's sanitiser drops data-* attributes, so turn and number travel in the href
      const m = (chip.getAttribute('href') || '').match(/^#cite-(\\d+)-(\\d+)$/);
      if (m) send({kind: 'cite', turn: Number(m[1]), n: Number(m[2])});
      return;
    }
    const open = e.target.closest('button.open-article');
    if (open) {
      e.preventDefault();
      send({kind: 'open', article: open.dataset.article, start: Number(open.dataset.start),
            end: Number(open.dataset.end)});
      return;
    }
    const copy = e.target.closest('button.copy-answer');
    if (copy) {
      const text = copy.closest('.src-actions').querySelector('textarea.answer-plain').value;
      const done = () => {
        copy.textContent = 'Copied';
        setTimeout(() => { copy.textContent = 'Copy answer'; }, 1500);
      };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done); else done();
    }
  }, true);
  // Screen readers: Gradio labels each message with its raw content, which for an answer is escaped
  // HTML. Relabel it with the text as shown, each citation chip read as "[n]".
  const spoken = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('a.cite-chip').forEach((a) => a.replaceWith(' [' + a.textContent.trim() + ']'));
    copy.querySelectorAll('button, svg').forEach((b) => b.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const relabel = () => {
    document.querySelectorAll('#chat [aria-label*="s message: "]').forEach((el) => {
      const label = el.getAttribute('aria-label');
      const who = label.slice(0, label.indexOf('s message: ') + 11);
      const want = who + spoken(el);
      if (label !== want) el.setAttribute('aria-label', want);
    });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => { queued = false; relabel(); }, 50);
  }).observe(document.body, {subtree: true, childList: true, characterData: true,
                             attributes: true, attributeFilter: ['aria-label']});
  // a phone: the filter drawer starts closed (the chat is what people came for); the toggle opens it
  if (window.matchMedia('(max-width: 640px)').matches) {
    const close = () => {
      const side = document.querySelector('#sidebar, .sidebar');
      if (!side) return setTimeout(close, 100);
      if (side.classList.contains('open')) {
        const btn = document.querySelector('.sidebar .toggle-button, #sidebar .toggle-button');
        if (btn) btn.click();
      }
    };
    close();
  }
}
"""

# Scroll the panel that holds the target, never the page: scrollIntoView also scrolls the window,
# which pushed the chat out of view on a laptop screen.
_SCROLL_IN = """
  const inside = (box, el, center) => {
    if (!box || !el) return;
    const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    const want = center ? top - (box.clientHeight - el.offsetHeight) / 2 : top - 8;
    box.scrollTo({top: Math.max(0, want), behavior: 'smooth'});
  };
"""

SCROLL_TO_CARD = """
() => setTimeout(() => {""" + _SCROLL_IN + """
  inside(document.querySelector('#sources-panel'),
         document.querySelector('#sources-panel .src-card.selected'), false);
}, 150)
"""

SCROLL_TO_MARK = """
() => setTimeout(() => {""" + _SCROLL_IN + """
  inside(document.querySelector('#article-panel'),
         document.querySelector('#article-panel #article-mark'), true);
}, 250)
"""
