import type { Command } from 'commander';
export function registerReport(program: Command): void {
  void program;
}
