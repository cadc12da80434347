// A process using a local store's server, for tests: acquires it, prints one JSON line (uri, pid, adopted), holds it
// until its stdin ends (or SIGTERM), then releases it and exits.
//   node --import tsx tests/runner/tracking/store-user.ts <store folder>
import { acquireLocalServer } from '../../../runner/tracking/local-store.ts';

const lease = await acquireLocalServer(process.argv[2]!);
process.stdout.write(`${JSON.stringify({ uri: lease.server.uri, pid: lease.server.pid, adopted: lease.adopted })}\n`);
const keepAlive = setInterval(() => {}, 1 << 30);
await new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.resume();
  process.once('SIGTERM', resolve);
});
clearInterval(keepAlive);
await lease.release();
