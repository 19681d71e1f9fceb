/** Loads the supercluster config file (default infra/config/supercluster.json) and validates it once. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSuperclusterConfig, SuperclusterConfigError, type SuperclusterConfig } from '../../shared/supercluster/config.ts';

export const DEFAULT_CONFIG_PATH = resolve(dirname(fileURLToPath(import.meta.url)), 'supercluster.json');

export function loadSuperclusterConfig(path: string = DEFAULT_CONFIG_PATH): SuperclusterConfig {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SuperclusterConfigError([`cannot read config file ${path}: ${(cause as Error).message}`], { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new SuperclusterConfigError([`${path} is not valid JSON: ${(cause as Error).message}`], { cause });
  }
  return parseSuperclusterConfig(json);
}
