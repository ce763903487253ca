import fs from 'node:fs';

/**
 * OS threads of this process, where the OS lists them (Linux); null elsewhere. Counted rather than named: a native
 * library's threads all carry the name of the thread that started them.
 */
export function osThreads(): number | null {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return null;
  }
}
