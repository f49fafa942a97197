/**
 * Long synchronous loops on the event loop (the cycle's stages over a large fleet): call the
 * returned function often, `await pause()`; once `budgetMs` of work has passed since the loop last
 * gave way, it gives the event loop back (setImmediate), so /metrics and the API keep answering.
 */
export function loopPauser(budgetMs = 10): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await new Promise((r) => setImmediate(r));
    since = performance.now();
  };
}
