import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from './entries.js';
import { isHidden, VIDEO } from './types.js';

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    // A dangling link at the top is not a label folder; inside one it is still listed and reported missing.
    return false;
  }
}

/**
 * A folder of <label>/<clip> videos. Files directly in the folder and deeper subfolders are ignored: only
 * the label folder says what a clip is.
 */
export function folderEntries(dir: string): Entry[] {
  const entries: Entry[] = [];
  for (const label of fs.readdirSync(dir).sort()) {
    if (isHidden(label) || !isDirectory(path.join(dir, label))) continue;
    for (const f of fs.readdirSync(path.join(dir, label)).sort()) {
      if (isHidden(f) || !VIDEO.test(f)) continue;
      const name = path.join(label, f);
      entries.push({ where: '', name, label, file: path.join(dir, name), anywhere: false });
    }
  }
  return entries;
}
