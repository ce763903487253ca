import fs from 'node:fs';
import os from 'node:os';
import { labelledMachine, type Machine } from './results.js';

/**
 * This machine, as results are labelled with it: `label`, else MOVINET_MACHINE (so processes a run
 * starts, and suite steps, carry it), else the CPU model and core count.
 */
export function localMachine(label: string | undefined = process.env.MOVINET_MACHINE): Machine {
  const cpuinfo = readCpuinfo();
  const emulated = emulation(process.arch, cpuinfo);
  const cpu = cpuName(cpuinfo);
  const cpuModel = emulated ? `emulated ${process.arch} (host: ${cpu})` : cpu;
  const cpuCores = os.availableParallelism();
  return labelledMachine(
    {
      cpuModel,
      cpuCores,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      ...(emulated ? { emulated } : {}),
    },
    label,
  );
}

/** The instruction set a Linux /proc/cpuinfo describes, by the fields only that family's kernel writes. */
export function cpuinfoArch(cpuinfo: string): 'x64' | 'arm64' | null {
  if (/^vendor_id\s*:/m.test(cpuinfo) || /^flags\s*:.*\bsse2\b/m.test(cpuinfo)) return 'x64';
  if (/^CPU implementer\s*:/m.test(cpuinfo) || /^Features\s*:.*\basimd\b/m.test(cpuinfo)) return 'arm64';
  return null;
}

/**
 * How this process is emulated, if it is: a user-mode emulator (qemu-user) runs the guest's Node but
 * leaves /proc/cpuinfo to the host kernel, so a CPU of another instruction set than Node's own gives it
 * away. MOVINET_EMULATED names an emulator this test cannot see (a whole emulated system).
 */
export function emulation(arch: string = process.arch, cpuinfo: string = readCpuinfo()): string | undefined {
  const host = cpuinfoArch(cpuinfo);
  if (host && host !== arch) return `${arch} Node on a ${host} CPU (user-mode emulation)`;
  return process.env.MOVINET_EMULATED?.trim() || undefined;
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
