/**
 * Rules about machines that depend only on what they are given; reading this machine's facts from the OS
 * is the run layer's (run/machine.ts).
 */
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
 * How a process is emulated, if it is. `named` is the emulator its runner names (the only sign of a whole
 * emulated system or of a user-mode emulator given a guest /proc/cpuinfo). Otherwise a user-mode emulator
 * (qemu-user) leaves /proc/cpuinfo to the host kernel, so a CPU of another instruction set than Node's own
 * gives it away.
 */
export function emulation(arch: string, cpuinfo: string, named?: string): string | undefined {
  if (named?.trim()) return named.trim();
  const host = cpuinfoArch(cpuinfo);
  const mine = FAMILY[arch];
  return host && mine && host !== mine ? `${arch} Node on an ${host} CPU (user-mode emulation)` : undefined;
}
