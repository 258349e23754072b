// keys.js: keyboard control of the player, kept apart from the DOM so it can be tested.
//
// Space plays/pauses, ArrowLeft/ArrowRight step to the previous/next whole layer,
// Home/End jump to the first/last state. Keys are handled only while the widget's
// root element itself has focus and no modifier is held, so notebooks and slide
// decks (Reveal.js) keep their shortcuts otherwise.

/** The action for a key at layer position `position` of K layers, or null if the key is not ours. */
export function keyAction(key, position, K) {
  const p = Math.min(Math.max(Number(position) || 0, 0), K);
  const eps = 1e-6;
  switch (key) {
    case " ":
    case "Spacebar":
      return { type: "toggle" };
    case "ArrowLeft":
      return { type: "seek", position: Math.max(0, Math.ceil(p - eps) - 1) };
    case "ArrowRight":
      return { type: "seek", position: Math.min(K, Math.floor(p + eps) + 1) };
    case "Home":
      return { type: "seek", position: 0 };
    case "End":
      return { type: "seek", position: K };
    default:
      return null;
  }
}

/** Should the player handle this keydown? Only on the focused root, without modifiers. */
export function isOwnKeyEvent(event, root) {
  // Shift too: Shift+Space is a deck's "previous slide"; isComposing: a key that belongs to an input method
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey
      || event.isComposing) return false;
  return event.target === root;
}
