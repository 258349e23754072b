// index.js: the bundle's entry point. The default export is the FlowPlayer's
// anywidget front-end module; the named exports let other views (and static
// exports) reuse the building blocks.

import player from "./player.js";

export { renderPlayer } from "./player.js";
export { decodeArray, decodeArrays, encodeArray, base64ToBytes, bytesToBase64 } from "./wire.js";
export { buildScene, statusText } from "./scene.js";
export { createPanel } from "./panel.js";
export { drawOverlay, layoutPlot } from "./overlay.js";
export { computeReadout, readoutRows, readoutText, formatNumber } from "./readout.js";
export { resolveTheme } from "./theme.js";

export default player;
