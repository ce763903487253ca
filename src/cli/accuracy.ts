import type { Command } from 'commander';
export function registerAccuracy(program: Command): void {
  void program;
}
