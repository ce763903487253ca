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
  const cpuModel = emulated ? `emulated ${process.arch}${cpu === 'unknown' ? '' : ` (${cpu})`}` : cpu;
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

type IsaFamily = 'x86' | 'arm';

/** The instruction-set family a Linux /proc/cpuinfo describes, by the fields only that family's kernel writes. */
export function cpuinfoArch(cpuinfo: string): IsaFamily | null {
  if (/^vendor_id\s*:/m.test(cpuinfo) || /^flags\s*:.*\bsse2\b/m.test(cpuinfo)) return 'x86';
  if (/^CPU implementer\s*:/m.test(cpuinfo) || /^Features\s*:/m.test(cpuinfo)) return 'arm';
  return null;
}

/** A 32-bit Node on a 64-bit kernel of the same family (armhf on a Pi's arm64 kernel) runs natively. */
const FAMILY: Readonly<Record<string, IsaFamily>> = { x64: 'x86', ia32: 'x86', arm64: 'arm', arm: 'arm' };

/**
 * How this process is emulated, if it is. MOVINET_EMULATED names the emulator (what runs one says, and
 * the only sign of a whole emulated system or of a user-mode emulator given a guest /proc/cpuinfo).
 * Otherwise a user-mode emulator (qemu-user) leaves /proc/cpuinfo to the host kernel, so a CPU of
 * another instruction set than Node's own gives it away.
 */
export function emulation(arch: string = process.arch, cpuinfo: string = readCpuinfo()): string | undefined {
  const named = process.env.MOVINET_EMULATED?.trim();
  if (named) return named;
  const host = cpuinfoArch(cpuinfo);
  const mine = FAMILY[arch];
  return host && mine && host !== mine ? `${arch} Node on an ${host} CPU (user-mode emulation)` : undefined;
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
