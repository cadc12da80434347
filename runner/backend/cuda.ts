import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/** The NVIDIA kernel driver's version line, or undefined when no driver is loaded. */
export function nvidiaDriver(): string | undefined {
  try {
    return readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]?.trim() || 'present';
  } catch {
    return existsSync('/dev/nvidiactl') ? 'present' : undefined;
  }
}

/** GPU model names the NVIDIA driver lists (from /proc, no process started). */
export function gpuModels(): string[] {
  const root = '/proc/driver/nvidia/gpus';
  try {
    return readdirSync(root).sort().map((bus) => {
      const info = readFileSync(join(root, bus, 'information'), 'utf8');
      return /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? bus;
    });
  } catch {
    return [];
  }
}

/** The CUDA library folders scripts/setup-tensorflow.sh --gpu laid out for a package (resolved paths). */
export function cudaLibraryDirs(packageDir: string): string[] {
  const nvidia = join(packageDir, 'deps', 'nvidia');
  try {
    return readdirSync(nvidia).sort()
      .map((name) => join(nvidia, name, 'lib'))
      .filter((dir) => existsSync(dir))
      .map((dir) => realpathSync(dir));
  } catch {
    return [];
  }
}

/** The folders of `dirs` that LD_LIBRARY_PATH lacks (the dynamic loader reads it at process start only). */
export function missingFromLibraryPath(dirs: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = new Set((env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean).map((p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  }));
  return dirs.filter((dir) => !listed.has(dir));
}

/** Libraries TensorFlow 2.21's GPU build opens by soname (CUDA 12, cuDNN 9). */
export const CUDA_SONAMES = [
  'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11',
  'libcusparse.so.12', 'libcusolver.so.11', 'libcudnn.so.9',
];

/** The CUDA_SONAMES that none of `dirs` holds. */
export function missingCudaLibraries(dirs: string[]): string[] {
  return CUDA_SONAMES.filter((soname) => !dirs.some((dir) => existsSync(join(dir, soname))));
}
