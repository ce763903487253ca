import os from 'node:os';
import { labelledMachine, type Machine } from './results.js';

/**
 * This machine, as results are labelled with it: `label`, else MOVINET_MACHINE (so processes a run
 * starts, and suite steps, carry it), else the CPU model and core count.
 */
export function localMachine(label: string | undefined = process.env.MOVINET_MACHINE): Machine {
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown';
  const cpuCores = os.availableParallelism();
  return labelledMachine(
    { cpuModel, cpuCores, os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version },
    label,
  );
}
