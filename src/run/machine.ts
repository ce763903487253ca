import fs from 'node:fs';
import os from 'node:os';
import { emulation } from '../core/machine.js';
import { labelledMachine, type Machine } from '../core/results.js';

/**
 * This machine, as results are labelled with it: `label` (the user's `--machine`, or MOVINET_MACHINE read by
 * the CLI and the library), else the CPU model and core count. MOVINET_EMULATED is the runner's word that the
 * machine is emulated, which nothing on the machine itself may show.
 */
export function thisMachine(label?: string): Machine {
  const cpuinfo = readCpuinfo();
  const emulated = emulation(process.arch, cpuinfo, process.env.MOVINET_EMULATED);
  const cpu = cpuName(cpuinfo);
  const cpuModel = emulated ? `emulated ${process.arch}${cpu === 'unknown' ? '' : ` (${cpu})`}` : cpu;
  return labelledMachine(
    {
      cpuModel,
      cpuCores: os.availableParallelism(),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      ...(emulated ? { emulated } : {}),
    },
    label,
  );
}

/**
 * The CPU's name: Node's, else what the kernel says of the board or CPU (Node's arm64 builds often find
 * no "model name" line: a Raspberry Pi names itself in the device tree instead).
 */
function cpuName(cpuinfo: string): string {
  const node = os.cpus()[0]?.model.trim();
  if (node && node !== 'unknown') return node;
  let board = '';
  try {
    board = fs.readFileSync('/proc/device-tree/model', 'utf8').replace(/\0/g, '').trim();
  } catch {
    // Not a device-tree system.
  }
  const line = /^(?:model name|Model|Hardware)\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  return board || line || 'unknown';
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}
