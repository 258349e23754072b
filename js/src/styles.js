// styles.js: the widget's CSS, scoped under .flowviz-player. Colours come from
// custom properties set by the player from theme.js (--fv-*), system fonts only.

import { UI_FONT, MONO_FONT } from "./theme.js";

export const CSS = `
.flowviz-player { --fv-scale: 1; position: relative; box-sizing: border-box; width: 100%;
  font-family: ${UI_FONT}; font-size: calc(13px * var(--fv-scale)); line-height: 1.35;
  color: var(--fv-fg); background: var(--fv-bg); border: 1px solid var(--fv-border); border-radius: 8px;
  padding: calc(8px * var(--fv-scale)); outline: none; user-select: none; -webkit-user-select: none; }
.flowviz-player:focus-visible { box-shadow: 0 0 0 2px var(--fv-accent); }
.flowviz-player *, .flowviz-player *::before, .flowviz-player *::after { box-sizing: border-box; }
/* host pages style bare elements (Voila's slides: .reveal table { font-size: ... }, reveal.js themes' cell
   borders): ours keep the view's type and have no borders */
.flowviz-player.flowviz-player table, .flowviz-player.flowviz-player th, .flowviz-player.flowviz-player td {
  font-size: inherit; line-height: inherit; border: 0; }
.flowviz-player .fv-toolbar { display: flex; flex-direction: column; gap: 6px; margin-bottom: 6px; }
.flowviz-player .fv-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.flowviz-player .fv-row2 { gap: 14px; font-size: 0.92em; color: var(--fv-muted); }
.flowviz-player .fv-btn { display: inline-flex; align-items: center; justify-content: center;
  width: 2.2em; height: 2.2em; padding: 0; border: 1px solid var(--fv-border); border-radius: 6px;
  background: var(--fv-btn); color: var(--fv-fg); font-size: 1em; cursor: pointer; }
.flowviz-player .fv-btn:hover { border-color: var(--fv-accent); }
.flowviz-player .fv-btn:focus-visible { outline: 2px solid var(--fv-accent); outline-offset: 1px; }
.flowviz-player .fv-play { width: 2.6em; background: var(--fv-accent); color: var(--fv-on-accent); border-color: transparent; }
.flowviz-player .fv-btn[aria-pressed="true"]:not(.fv-play) { background: var(--fv-accent-soft); border-color: var(--fv-accent); color: var(--fv-accent); }
.flowviz-player .fv-slider { flex: 1 1 160px; min-width: 120px; accent-color: var(--fv-accent); height: 1.4em; margin: 0; }
.flowviz-player .fv-layer-label { font-variant-numeric: tabular-nums; min-width: 8.5em; color: var(--fv-muted); }
.flowviz-player select { font: inherit; color: var(--fv-fg); background: var(--fv-btn);
  border: 1px solid var(--fv-border); border-radius: 6px; height: 2.2em; padding: 0 0.4em; }
.flowviz-player .fv-check { display: inline-flex; align-items: center; gap: 0.35em; cursor: pointer; white-space: nowrap; }
.flowviz-player input[type="checkbox"] { accent-color: var(--fv-accent); margin: 0; width: 1em; height: 1em; }
.flowviz-player .fv-computing { display: inline-flex; align-items: center; gap: 0.4em; color: var(--fv-accent); }
.flowviz-player .fv-computing[hidden] { display: none; }
.flowviz-player .fv-computing i { width: 0.8em; height: 0.8em; border: 2px solid currentColor; border-right-color: transparent;
  border-radius: 50%; animation: fv-spin 0.8s linear infinite; }
@keyframes fv-spin { to { transform: rotate(360deg); } }
.flowviz-player .fv-params { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 6px; }
.flowviz-player .fv-params[hidden] { display: none; }
.flowviz-player .fv-params-note { flex: 1 1 100%; color: var(--fv-muted); font-size: 0.85em; }
.flowviz-player .fv-params-box { flex: 1 1 100%; }
.flowviz-player .fv-params-box > summary { cursor: pointer; color: var(--fv-muted); font-size: 0.9em; margin-bottom: 4px; width: max-content; }
.flowviz-player .fv-params-groups { display: flex; flex-wrap: wrap; gap: 8px; }
.flowviz-player .fv-params input:disabled, .flowviz-player .fv-params select:disabled { cursor: not-allowed; opacity: 0.55; }
.flowviz-player .fv-group { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin: 0;
  padding: 2px 10px 6px; border: 1px solid var(--fv-border); border-radius: 6px; }
.flowviz-player .fv-group legend { padding: 0 4px; font-size: 0.85em; color: var(--fv-muted); }
.flowviz-player .fv-param { display: inline-flex; align-items: center; gap: 6px; }
.flowviz-player .fv-param input[type="range"] { width: calc(120px * var(--fv-scale)); accent-color: var(--fv-accent); }
.flowviz-player .fv-value { font-variant-numeric: tabular-nums; min-width: 3em; color: var(--fv-muted); }
.flowviz-player .fv-main { display: flex; flex-wrap: wrap; gap: 8px; align-items: stretch; }
.flowviz-player .fv-panels { position: relative; flex: 1 1 420px; display: flex; gap: 8px; min-width: 0; align-items: flex-start; }
.flowviz-player.fv-linked .fv-panels { flex-basis: 100%; }
/* one plot: its box no wider than the plot itself, so the readout sits beside it, not across the cell */
.flowviz-player.fv-flowplayer:not(.fv-linked) .fv-panels { max-width: calc(549px * var(--fv-scale)); }
.flowviz-player.fv-linked .fv-side { flex: 1 1 100%; flex-direction: row; flex-wrap: wrap; align-items: flex-start; }
.flowviz-player.fv-linked .fv-readout { flex: 0 1 auto; display: flex; flex-wrap: wrap; gap: 0 22px; }
.flowviz-player.fv-linked .fv-legend { flex: 1 1 240px; }
.flowviz-player .fv-panel { position: relative; flex: 1 1 0; min-width: 0; aspect-ratio: 1 / 1.02;
  max-height: min(calc(560px * var(--fv-scale)), var(--fv-fit-height, 100000px));
  max-width: min(calc(549px * var(--fv-scale)), calc(var(--fv-fit-height, 100000px) / 1.02)); touch-action: none; }
.flowviz-player .fv-panel canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.flowviz-player .fv-panel .fv-overlay { cursor: crosshair; }
.flowviz-player .fv-status { position: absolute; left: 50%; top: calc(38px * var(--fv-scale)); transform: translateX(-50%);
  max-width: 82%; padding: 0.3em 0.8em 0.35em; border-radius: 8px; text-align: center; pointer-events: none;
  font-size: 1.15em; line-height: 1.25; color: #fff; background: rgba(200, 24, 36, 0.9);
  box-shadow: 0 2px 10px rgba(0,0,0,0.25); }
.flowviz-player .fv-status strong { font-weight: 700; }
.flowviz-player .fv-status small { display: block; font-size: 0.62em; font-weight: 500; opacity: 0.95; }
.flowviz-player .fv-status .fv-sep { display: none; }
.flowviz-player .fv-status[data-level="info"] { background: rgba(60, 70, 90, 0.85); font-size: 1.1em; font-weight: 600; }
.flowviz-player .fv-status[hidden] { display: none; }
.flowviz-player .fv-side { flex: 0 1 calc(270px * var(--fv-scale)); min-width: calc(230px * var(--fv-scale));
  display: flex; flex-direction: column; gap: 6px; }
/* on a slide (js/src/slides.js) the readout beside the plot scrolls within the plot's height: a slide does not */
.flowviz-player[data-slide] .fv-side { max-height: var(--fv-fit-height, none); overflow-y: auto; }
.flowviz-player .fv-readout { font-family: ${MONO_FONT}; font-size: 0.86em; line-height: 1.4;
  border: 1px solid var(--fv-border); border-radius: 6px; padding: 6px 8px; background: var(--fv-panel-bg);
  white-space: pre; overflow-x: auto; user-select: text; -webkit-user-select: text; }
.flowviz-player .fv-readout .fv-h { font-family: ${UI_FONT}; font-weight: 600; color: var(--fv-fg); white-space: normal; }
.flowviz-player .fv-readout .fv-note { font-family: ${UI_FONT}; color: var(--fv-muted); font-size: 0.92em; white-space: normal; margin-bottom: 2px; }
.flowviz-player .fv-readout table { border-collapse: collapse; margin: 2px 0 8px; }
.flowviz-player .fv-readout td { padding: 0 6px 0 0; vertical-align: top; }
.flowviz-player .fv-readout td:first-child { color: var(--fv-muted); }
.flowviz-player .fv-readout .fv-bad { color: var(--fv-bad); font-weight: 600; }
.flowviz-player .fv-value.fv-bad { color: var(--fv-bad); }
.flowviz-player .fv-readout .fv-hint { font-family: ${UI_FONT}; color: var(--fv-muted); white-space: normal; }
.flowviz-player .fv-legend { font-size: 0.86em; color: var(--fv-muted); }
.flowviz-player .fv-legend b { color: var(--fv-fg); font-weight: 600; }
`;
