// The keys of the ARIA tabs pattern: arrows move to the next or previous tab (wrapping
// around), Home and End to the first and last; the caller selects and focuses it.

/** The index the key moves to among ``count`` tabs from ``at``, or null for other keys. */
export function tabMove(event, at, count, { vertical = false } = {}) {
  const [back, forth] = vertical ? ["ArrowUp", "ArrowDown"] : ["ArrowLeft", "ArrowRight"];
  const moves = {
    [back]: (at + count - 1) % count,
    [forth]: (at + 1) % count,
    Home: 0,
    End: count - 1,
  };
  if (!(event.key in moves) || !count) return null;
  event.preventDefault();
  return moves[event.key];
}
