/**
 * The web console's static files (built by scripts/build-console.mjs into .build/console; in Lambda they are
 * copied next to the bundle, <task root>/console), read once per runtime and served by the API function at
 * `/` and `/console/<file>`. File names carry a content hash, so everything but index.html is cached for good.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleAsset {
  readonly body: string;
  readonly contentType: string;
  readonly immutable: boolean;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json' };

/** Where the built console is: next to the Lambda bundle, else the repository's .build/console. */
export function consoleAssetsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONSOLE_ASSETS_DIR) return env.CONSOLE_ASSETS_DIR;
  if (env.LAMBDA_TASK_ROOT) return join(env.LAMBDA_TASK_ROOT, 'console');
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../.build/console');
}

/** The files of the built console by name (index.html among them); empty when it was not built. */
export function loadConsoleAssets(dir: string): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    assets.set(name, { body: readFileSync(join(dir, name), 'utf8'), contentType: type, immutable: name !== 'index.html' });
  }
  return assets;
}
