"""The stylesheet of the run views (Diagnose, Runs, Compare): one place for every `ev-` class. Selectors are
class-scoped, so the same markup looks the same in whichever tab shows it. The app passes it to `launch(css=...)`
(`ui.app.launch_options`); `style_block` gives it as a <style> element for pages built another way."""
from __future__ import annotations

CSS = """
.ev-cards .ev-stage { margin: 10px 0 4px; font-size: 16px; font-weight: 700; }
.ev-cards .ev-aspect { margin: 6px 0 4px 4px; font-size: 13.5px; font-weight: 600; color: #445; }
.ev-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; margin-bottom: 6px; align-items: start; }
.ev-card { border: 1px solid #d5d9e2; border-radius: 8px; padding: 9px 12px; background: #fff; color: #222; scroll-margin-top: 12px; }
.ev-card.ev-s-gated, .ev-card.ev-s-pending { background: #f1f2f4; color: #6f747c; border-style: dashed; }
.ev-card.ev-s-judging { border-color: #5b8def; }
.ev-card.ev-s-error, .ev-card.ev-s-unparsed { border-color: #d9534f; }
.ev-card.ev-flash { box-shadow: 0 0 0 3px #5b8def; transition: box-shadow .3s; }
.ev-card-head { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.ev-card-name { font-weight: 700; font-size: 15px; }
.ev-verdict-line { font-size: 13px; margin: 5px 0 3px; font-weight: 500; }
.ev-badge { border-radius: 12px; padding: 2px 9px; font-size: 13px; font-weight: 700; white-space: nowrap; color: #fff; background: #8a8f98; }
.ev-b1 { background: #c0392b !important; color: #fff !important; } .ev-b2 { background: #e67e22 !important; color: #fff !important; }
.ev-b3 { background: #b7950b !important; color: #fff !important; } .ev-b4 { background: #27ae60 !important; color: #fff !important; }
.ev-b5 { background: #1e8449 !important; color: #fff !important; }
.ev-badge.ev-b-none { background: #fff; color: #666; border: 1px solid #aaa; }
.ev-gate { font-size: 12.5px; font-style: italic; margin: 4px 0; }
.ev-key { font-size: 12px; margin: 3px 0 3px 0; padding-left: 2px; list-style: none; }
.ev-key li, .ev-answers li { margin: 2px 0; }
.ev-mark { display: inline-block; width: 1em; font-weight: 700; }
.ev-qid { font-size: 10px; color: #889; }
.ev-mid { text-decoration: underline dotted #889; cursor: help; }
.ev-fold { font-size: 12px; margin: 3px 0; } .ev-fold summary { cursor: pointer; color: #345; }
.ev-rationale { white-space: pre-wrap; font-family: inherit; font-size: 12px; margin: 4px 0; max-height: 260px; overflow-y: auto; background: transparent; border: 0; padding: 0; }
.ev-links { font-size: 12px; margin-top: 4px; } .ev-links a { margin-right: 6px; }
.ev-answers { font-size: 12px; margin: 2px 0 0 4px; padding: 0; list-style: none; }
.ev-progress { font-size: 13px; }
.ev-progress table { border-collapse: collapse; font-size: 12.5px; } .ev-progress td, .ev-progress th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; }
.ev-error { background: #fdecea; border: 1px solid #d9534f; border-radius: 6px; padding: 8px 12px; color: #7a1c16; }
.ev-note { background: #eef4ff; border: 1px solid #9bb7ef; border-radius: 6px; padding: 5px 12px; color: #1f3b73; margin: 4px 0; }
.ev-file-warning { background: #fff4e5; border: 1px solid #f0a030; border-radius: 6px; padding: 6px 12px; color: #5a3800; margin: 3px 0; }
.ev-meta { font-size: 12px; color: #667; }
.ev-overview { border: 1px solid #d5d9e2; border-radius: 8px; padding: 8px 12px; background: #fff; color: #222; }
.ev-ov-heading { font-size: 13px; color: #445; margin-bottom: 4px; }
.ev-verdict { font-size: 14px; margin-bottom: 6px; }
.ev-ov-grid { display: grid; grid-template-columns: max-content 1fr; column-gap: 10px; font-size: 12px; }
.ev-ov-row { display: contents; }
.ev-ov-label { font-weight: 600; color: #445; padding: 3px 0; white-space: nowrap; }
.ev-ov-stage { display: block; font-size: 10.5px; text-transform: uppercase; letter-spacing: .04em; color: #889; font-weight: 700; }
.ev-ov-first > div { border-top: 1px solid #e3e6ec; padding-top: 4px; }
.ev-ov-chips { padding: 3px 0; align-self: end; }
.ev-chip { display: inline-block; border-radius: 11px; padding: 1px 8px; margin: 1px 3px 1px 0; font-size: 12px; text-decoration: none !important; color: #333 !important; background: #eef0f3; border: 1px solid #d5d9e2; white-space: nowrap; }
.ev-chip b { margin-left: 3px; }
.ev-chip.ev-c-gated { background: #f1f2f4; color: #8a8f98 !important; border-style: dashed; }
.ev-chip.ev-c-not_judged { background: #fff; color: #666 !important; border: 1px solid #aaa; }
.ev-chip.ev-c-error, .ev-chip.ev-c-unparsed { background: #fdecea; border-color: #d9534f; }
.ev-chip.ev-c-pending { opacity: 0.6; } .ev-chip.ev-c-judging { border-color: #5b8def; }
.ev-weakest { font-size: 12.5px; margin-top: 6px; } .ev-weakest ol { margin: 2px 0 0 18px; padding: 0; }
.ev-weakest li { margin: 2px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; } .ev-weakest .ev-badge { font-size: 11px; padding: 0 6px; }
.ev-panel { border: 1px solid #d5d9e2; border-radius: 8px; padding: 8px 12px; margin: 8px 0; background: #fff; color: #222; }
.ev-panel h4 { margin: 0 0 4px; }
.ev-strip { display: flex; gap: 8px; overflow-x: auto; } .ev-shot { font-size: 12px; text-align: center; }
.ev-shot img { display: block; height: 72px; border-radius: 4px; }
.ev-swatch { display: inline-block; width: 46px; height: 30px; border-radius: 4px; margin-right: 4px; border: 1px solid #ccc; }
.ev-words { font-size: 12px; line-height: 1.8; } .ev-word { background: #f3f5f9; border-radius: 3px; padding: 1px 4px; margin-right: 3px; }
.ev-kv { font-size: 12.5px; margin: 2px 0; } .ev-kv b { font-weight: 600; } .ev-measure { cursor: help; }
.ev-measures { border-collapse: collapse; font-size: 11.5px; } .ev-measures td, .ev-measures th { padding: 1px 6px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
.ev-runs { border-collapse: collapse; width: 100%; font-size: 12.5px; }
.ev-runs th { text-align: left; background: #f4f6fa; padding: 4px 6px; white-space: nowrap; }
.ev-runs td { padding: 4px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
.ev-runs tr[data-open-run] { cursor: pointer; } .ev-runs tr[data-open-run]:hover { background: #f3f7ff; }
.ev-runs tr.ev-open { background: #e8f0ff; }
.ev-runs .ev-prompt { max-width: 320px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ev-runs code { font-size: 11px; }
.ev-st { border-radius: 9px; padding: 0 7px; font-size: 11.5px; border: 1px solid #aaa; white-space: nowrap; }
.ev-st-finished { border-color: #27ae60; color: #1e6b3c; } .ev-st-interrupted { border-color: #e67e22; color: #8a4a0b; background: #fff4e5; }
.ev-st-running { border-color: #5b8def; color: #1f3b73; }
.ev-pick { font-size: 11.5px; margin-left: 4px; }
.ev-cases .ev-case { display: flex; gap: 10px; align-items: flex-start; border-bottom: 1px solid #eee; padding: 6px 0; }
.ev-case-strip { display: flex; gap: 3px; min-width: 250px; } .ev-case-strip img { height: 44px; border-radius: 3px; }
.ev-case-body { font-size: 12.5px; flex: 1; }
.ev-compare { border-collapse: collapse; width: 100%; font-size: 12.5px; table-layout: fixed; }
.ev-compare th { text-align: left; background: #f4f6fa; padding: 4px 6px; }
.ev-compare td { padding: 4px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
.ev-compare .ev-a { border-left: 3px solid #d62728; } .ev-compare .ev-b { border-left: 3px solid #1f77b4; }
.ev-diff li { margin: 1px 0; } .ev-diff { margin: 0; padding-left: 16px; font-size: 12px; }
.ev-delta-up { color: #1e6b3c; } .ev-delta-down { color: #a12a1f; }
.ev-path { font-size: 11.5px; color: #667; word-break: break-all; }
.ev-missing { background: #f4f5f7; border: 1px dashed #aab; border-radius: 6px; padding: 18px; color: #556; font-size: 13px; text-align: center; }
"""


def style_block() -> str:
    """The stylesheet as a <style> element, for a gr.HTML at the top of a tab."""
    return f"<style>{CSS}</style>"
