"""Players side by side with one control for all of them: play, pause, seek (a slider over the longest clip),
step one frame, loop, and which player is heard. Synchronised both ways: the control moves every player, and
a player moved any other way (keyboard, script) moves the others. A clip shorter than the longest holds its
last frame until the loop restarts them all.

`players_html` is the markup (pure, every text escaped); `SYNC_JS` runs once per component (`gr.HTML`'s
`js_on_load`) and listens on the component's root, so it keeps working when the markup is replaced for the
next task. Media events do not bubble, so they are caught in the capture phase.
"""
from __future__ import annotations

from typing import Any, Sequence

from evalverse.ui.annotate_view import esc

FRAME_S = 1 / 25  # one step of the frame buttons when the clip's own rate is unknown (the common 25 fps)

CSS = """
.ev-sync { border: 1px solid #e3e6ee; border-radius: 8px; padding: 10px; background: #fafbfd; }
.ev-sync-row { display: flex; gap: 10px; align-items: flex-start; }
.ev-sync-item { flex: 1 1 0; min-width: 0; margin: 0; }
.ev-sync-item figcaption { font-weight: 600; margin-bottom: 4px; }
.ev-sync-item.ev-ref figcaption { color: #55607a; }
.ev-sync-item video, .ev-sync-item img { width: 100%; max-height: 420px; background: #111; border-radius: 6px; display: block; }
.ev-sync-missing { padding: 40px 8px; text-align: center; background: #f1f1f1; border-radius: 6px; color: #6b5000; }
.ev-sync-controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-top: 10px; }
.ev-sync-controls button { border: 1px solid #c5cbe0; background: #fff; border-radius: 6px; padding: 4px 10px; cursor: pointer; }
.ev-sync-controls button[aria-pressed="true"] { background: #e8eefc; border-color: #6d8ee8; }
.ev-sync-seek { flex: 1 1 240px; }
.ev-sync-time { font-variant-numeric: tabular-nums; min-width: 110px; }
.ev-sync-controls select { width: auto; min-width: 90px; padding: 2px 6px; }
.ev-sync.ev-stuck { box-shadow: 0 4px 12px rgba(20, 30, 60, 0.18); }
.ev-sync.ev-stuck .ev-sync-item video, .ev-sync.ev-stuck .ev-sync-item img { max-height: 200px; width: auto; max-width: 100%; margin: 0 auto; }
.ev-sync-note { font-size: 12px; color: #55607a; margin-top: 4px; }
"""

SYNC_JS = r"""
const root = element;
const vids = () => Array.from(root.querySelectorAll('video.ev-sync-video'));
const dur = (v) => (v && isFinite(v.duration) && v.duration > 0) ? v.duration : 0;
const longest = () => vids().reduce((m, v) => (m === null || dur(v) > dur(m)) ? v : m, null);
const clampFor = (v, t) => { const d = dur(v); return d ? Math.min(Math.max(0, t), d) : Math.max(0, t); };
const frameStep = () => { const g = root.querySelector('.ev-sync'); const f = g ? parseFloat(g.dataset.frame) : NaN; return isFinite(f) && f > 0 ? f : 0.04; };
root._evPlaying = false;

function cmdSeek(v, t) {
  const tt = clampFor(v, t);
  if (v.readyState < 1) { v._evPendingT = tt; return; }
  if (Math.abs(v.currentTime - tt) > 0.0005) { v._evCmd = true; v.currentTime = tt; }
}
function seekAll(t, source) {
  for (const v of vids()) if (v !== source) cmdSeek(v, t);
  if (root._evPlaying) for (const v of vids()) if (v.paused && t < dur(v)) { v._evPlayCmd = true; v.play().catch(() => {}); }
  refresh();
}
function playAll() {
  const m = longest();
  if (!m) return;
  if (m.ended || (dur(m) && m.currentTime >= dur(m) - 0.001)) seekAll(0, null);
  root._evPlaying = true;
  for (const v of vids()) {
    if (dur(v) && v.currentTime >= dur(v) - 0.001 && v !== m) continue;
    v._evPlayCmd = true;
    const p = v.play(); if (p) p.catch(() => {});
  }
  refresh();
}
function pauseAll() {
  root._evPlaying = false;
  for (const v of vids()) if (!v.paused) { v._evPauseCmd = true; v.pause(); }
  refresh();
}
function applySound() {
  const sel = root.querySelector('.ev-sync-sound');
  const which = sel ? sel.value : '';
  vids().forEach((v, i) => { v.muted = String(i) !== which; });
}
// "Keep in view": Gradio's container clips overflow, so CSS position:sticky cannot work; the block is moved
// down by the distance scrolled past its top instead (never below the end of its column). While moved, the
// players shrink (`ev-stuck`) and the block keeps its height, so the page below does not jump; the block is
// transparent to the pointer there, only the players themselves take clicks.
function applySticky() {
  const box = root.querySelector('.ev-sync-sticky'), g = root.querySelector('.ev-sync');
  const block = root.closest('.block') || root;
  const unstick = () => { block.style.transform = ''; block.style.minHeight = ''; block.style.zIndex = '';
                          block.style.pointerEvents = ''; if (g) g.classList.remove('ev-stuck'); };
  if (!(box && box.checked) || !g) { unstick(); return; }
  block.style.transform = '';
  const r = block.getBoundingClientRect(), col = (block.parentElement || block).getBoundingClientRect();
  const shift = Math.max(0, Math.min(-r.top, col.bottom - r.bottom));
  if (shift <= 0) { unstick(); return; }
  if (!g.classList.contains('ev-stuck')) { block.style.minHeight = r.height + 'px'; g.classList.add('ev-stuck'); }
  block.style.zIndex = '1000';
  block.style.pointerEvents = 'none';
  g.style.pointerEvents = 'auto';
  block.style.transform = 'translateY(' + shift + 'px)';
}
window.addEventListener('scroll', () => { if (root.isConnected) applySticky(); }, {passive: true});
window.addEventListener('resize', () => { if (root.isConnected) applySticky(); }, {passive: true});
function refresh() {
  const m = longest();
  const seek = root.querySelector('.ev-sync-seek');
  const label = root.querySelector('.ev-sync-time');
  const t = m ? m.currentTime : 0, d = dur(m);
  if (seek && !seek._evDragging) seek.value = d ? Math.round(1000 * t / d) : 0;
  if (label) label.textContent = t.toFixed(2) + ' / ' + d.toFixed(2) + ' s';
  const play = root.querySelector('[data-ev="play"]'), pause = root.querySelector('[data-ev="pause"]');
  if (play) play.setAttribute('aria-pressed', root._evPlaying ? 'true' : 'false');
  if (pause) pause.setAttribute('aria-pressed', root._evPlaying ? 'false' : 'true');
}
const ours = (e) => e.target && e.target.matches && e.target.matches('video.ev-sync-video') && root.contains(e.target);

root.addEventListener('loadedmetadata', (e) => {
  if (!ours(e)) return;
  const v = e.target;
  if (v._evPendingT !== undefined) { const t = v._evPendingT; delete v._evPendingT; cmdSeek(v, t); }
  applySound(); refresh();
}, true);
root.addEventListener('seeked', (e) => {
  if (!ours(e)) return;
  const v = e.target;
  if (v._evCmd) { v._evCmd = false; refresh(); return; }
  seekAll(v.currentTime, v);
}, true);
root.addEventListener('play', (e) => {
  if (!ours(e)) return;
  const v = e.target;
  if (v._evPlayCmd) { v._evPlayCmd = false; return; }
  playAll();
}, true);
root.addEventListener('pause', (e) => {
  if (!ours(e)) return;
  const v = e.target;
  if (v._evPauseCmd) { v._evPauseCmd = false; return; }
  if (v.ended || (dur(v) && v.currentTime >= dur(v) - 0.001)) return;  // a shorter clip reached its end
  pauseAll();
}, true);
root.addEventListener('ended', (e) => {
  if (!ours(e)) return;
  if (e.target !== longest()) return;
  const loop = root.querySelector('.ev-sync-loop');
  if (loop && loop.checked) { seekAll(0, null); playAll(); } else { root._evPlaying = false; refresh(); }
}, true);
root.addEventListener('timeupdate', (e) => {
  if (!ours(e)) return;
  const m = longest();
  if (e.target !== m) return;
  if (!m.paused) for (const v of vids()) {
    if (v === m || v.seeking || m.currentTime >= dur(v)) continue;
    if (Math.abs(v.currentTime - m.currentTime) > 0.2) cmdSeek(v, m.currentTime);
  }
  refresh();
}, true);
root.addEventListener('click', (e) => {
  const b = e.target.closest ? e.target.closest('[data-ev]') : null;
  if (!b || !root.contains(b)) return;
  const act = b.dataset.ev, m = longest();
  if (act === 'play') playAll();
  else if (act === 'pause') pauseAll();
  else if ((act === 'back' || act === 'fwd') && m) { pauseAll(); const t = clampFor(m, m.currentTime + (act === 'fwd' ? 1 : -1) * frameStep()); cmdSeek(m, t); seekAll(t, m); }
});
root.addEventListener('input', (e) => {
  if (!e.target.classList || !e.target.classList.contains('ev-sync-seek')) return;
  const m = longest(); if (!m) return;
  e.target._evDragging = true;
  const t = dur(m) * Number(e.target.value) / 1000;
  seekAll(t, null);
  e.target._evDragging = false;
});
root.addEventListener('change', (e) => {
  if (!e.target.classList) return;
  if (e.target.classList.contains('ev-sync-sound')) applySound();
  if (e.target.classList.contains('ev-sync-sticky')) applySticky();
});
if (typeof watch === 'function') watch('value', () => { root._evPlaying = false; applySound(); applySticky(); refresh(); });
applySound(); applySticky(); refresh();
"""


def players_html(outputs: Sequence[dict[str, Any]], references: Sequence[dict[str, Any]] = (), *,
                 frame_s: float = FRAME_S, group: str = "annotate", sticky: bool = True) -> str:
    """The players and the one control. `outputs` (left to right) and `references`: {label, url (None: the file
    is missing on the server), kind ("video" / "image" / "other")}. Only <video> items are synchronised."""
    if not outputs:
        return ""
    items = [(o, "ev-out") for o in outputs] + [(r, "ev-ref") for r in references]
    figures, sound, n_video, stills = [], ['<option value="">none</option>'], 0, []
    for item, cls in items:
        label, url, kind = esc(item.get("label")), item.get("url"), item.get("kind", "video")
        if url is None:
            body = f'<div class="ev-sync-missing">{label}: the file is not on the server, so it cannot be shown.</div>'
        elif kind == "image":
            body = f'<img src="{esc(url)}" alt="{label}">'
            stills.append(label)
        else:
            body = (f'<video class="ev-sync-video" data-label="{label}" src="{esc(url)}" preload="auto" muted '
                    'playsinline disablepictureinpicture></video>')
            sound.append(f'<option value="{n_video}">{label}</option>')
            n_video += 1
        figures.append(f'<figure class="ev-sync-item {cls}"><figcaption>{label}</figcaption>{body}</figure>')
    note = (f'<div class="ev-sync-note">{", ".join(stills)}: a still or animated image, shown as it is (not '
            'synchronised).</div>' if stills else "")
    controls = (
        '<div class="ev-sync-controls" role="group" aria-label="Playback of all players">'
        '<button type="button" data-ev="play" aria-pressed="false">▶ Play</button>'
        '<button type="button" data-ev="pause" aria-pressed="true">‖ Pause</button>'
        '<button type="button" data-ev="back" title="one frame back">◀ frame</button>'
        '<button type="button" data-ev="fwd" title="one frame forward">frame ▶</button>'
        '<input type="range" class="ev-sync-seek" min="0" max="1000" step="1" value="0" aria-label="Seek all players">'
        '<span class="ev-sync-time">0.00 / 0.00 s</span>'
        '<label><input type="checkbox" class="ev-sync-loop" checked> Loop</label>'
        f'<label title="keep the players at the top while you scroll through the dimensions"><input type="checkbox" '
        f'class="ev-sync-sticky"{" checked" if sticky else ""}> Keep in view</label>'
        f'<label>Sound from <select class="ev-sync-sound">{"".join(sound)}</select></label></div>'
    ) if n_video else ""
    return (f'<div class="ev-sync" data-group="{esc(group)}" data-frame="{float(frame_s):.5f}">'
            f'<div class="ev-sync-row">{"".join(figures)}</div>{controls}{note}</div>')
