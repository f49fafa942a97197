/** The plugin's preview bundle, served by the sidecar at /preview.js for its page at /. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The bundle (plugin/dist-preview/preview.js under `repoRoot`), read once when first asked for; undefined until it is built. */
export function previewBundle(repoRoot: string): () => string | undefined {
  let cached: string | undefined;
  return () => {
    if (cached === undefined) {
      const file = path.join(repoRoot, 'plugin', 'dist-preview', 'preview.js');
      if (existsSync(file)) cached = readFileSync(file, 'utf8');
    }
    return cached;
  };
}
