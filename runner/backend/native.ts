import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The two npm packages that carry TensorFlow's native addon. */
export type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** The command that builds the CPU addon (and, with `-- --gpu`, the GPU one). */
export const SETUP_COMMAND = 'npm run setup:tensorflow';

/** Why a native package cannot be used, and the command that fixes it. */
export interface NativeProblem {
  reason: string;
  fix: string;
}

/** Where a native package lies and what scripts/setup-tensorflow.sh left in it. */
export interface NativeLayout {
  pkg: NativePackage;
  dir: string;
  /** The package's main module (what importing it loads). */
  entry: string;
  addon: string;
  /** Node ABI the addon was built for (from the setup stamp), when known. */
  builtForAbi?: string;
}

/** Resolves packages from this project (tests pass another folder). */
const projectRequire = createRequire(import.meta.url);

/** The fix command for a package: the GPU one needs `-- --gpu`. */
export function fixFor(pkg: NativePackage): string {
  return pkg === '@tensorflow/tfjs-node-gpu' ? `${SETUP_COMMAND} -- --gpu` : SETUP_COMMAND;
}

/** Finds a package's addon as the package itself will (node-pre-gyp), or says what is missing. */
export function locate(pkg: NativePackage, resolveFrom?: string): NativeLayout | NativeProblem {
  const require = resolveFrom === undefined ? projectRequire : createRequire(join(resolveFrom, 'noop.js'));
  let dir: string;
  let entry: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
    entry = require.resolve(pkg);
  } catch {
    return { reason: `${pkg} is not installed`, fix: `npm run setup (or npm ci --ignore-scripts && ${fixFor(pkg)})` };
  }
  const preGyp = createRequire(join(dir, 'package.json'))('@mapbox/node-pre-gyp') as { find(p: string): string };
  const addon = preGyp.find(join(dir, 'package.json'));
  const stamp = readStamp(join(dir, 'deps', '.runner-tensorflow'));
  if (!existsSync(addon)) {
    return { reason: `the native addon of ${pkg} is not built (no ${addon})`, fix: fixFor(pkg) };
  }
  if (!existsSync(join(dir, 'deps', 'lib', 'libtensorflow.so'))) {
    return { reason: `the TensorFlow library of ${pkg} is missing (no ${join(dir, 'deps/lib/libtensorflow.so')}; npm ci empties it)`, fix: fixFor(pkg) };
  }
  return { pkg, dir, entry, addon, ...(stamp.node_abi ? { builtForAbi: stamp.node_abi } : {}) };
}

/** Loads the addon itself (dlopen, without the package's side effects); says why it failed, if it did. */
export function loadAddon(layout: NativeLayout): NativeProblem | undefined {
  try {
    projectRequire(layout.addon);
    return undefined;
  } catch (error) {
    return { reason: explainLoadError(error, layout), fix: fixFor(layout.pkg) };
  }
}

/** Turns a failed addon load into a precise reason (missing library, wrong Node ABI, missing CUDA library). */
export function explainLoadError(error: unknown, layout: Pick<NativeLayout, 'pkg' | 'builtForAbi'>): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0] ?? message;
  const abi = process.versions.modules;
  const cuda = /\b(lib(?:cuda|cudart|cublas|cublasLt|cudnn\w*|cufft|cusparse|cusolver|curand|nccl|nvrtc|nvJitLink|cupti)\.so[.\d]*)/.exec(message);
  if (cuda) return `the CUDA library ${cuda[1]} could not be loaded (${firstLine})`;
  const missing = /(\S+\.so[.\d]*): cannot open shared object file/.exec(message);
  if (missing) return `${missing[1]} could not be loaded by ${layout.pkg}'s addon (${firstLine})`;
  if (/NODE_MODULE_VERSION|did not self-register|undefined symbol: napi_|compiled against a different Node/.test(message)
    || (layout.builtForAbi !== undefined && layout.builtForAbi !== abi)) {
    const built = layout.builtForAbi ? `built for Node ABI ${layout.builtForAbi}` : 'built for another Node.js';
    return `wrong Node ABI: the addon of ${layout.pkg} was ${built}, this is Node ${process.version} (ABI ${abi}) (${firstLine})`;
  }
  if (/GLIBC(XX)?_[\d.]+/.test(message)) return `this system's C/C++ runtime is too old for TensorFlow 2.21 (${firstLine})`;
  return `the addon of ${layout.pkg} failed to load: ${firstLine}`;
}

/** Reads the `key=value ...` line that scripts/setup-tensorflow.sh writes after a good build. */
function readStamp(path: string): Record<string, string> {
  try {
    const line = readFileSync(path, 'utf8').trim();
    return Object.fromEntries(line.split(/\s+/).map((kv) => kv.split('=', 2) as [string, string]));
  } catch {
    return {};
  }
}

/** Whether TensorFlow's oneDNN CPU kernels are on (TF 2.21's default on x86-64 unless TF_ENABLE_ONEDNN_OPTS=0). */
export function oneDnnEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.TF_ENABLE_ONEDNN_OPTS ?? '').trim().toLowerCase();
  return !(value === '0' || value === 'false');
}
