// A process using a local store's server, for tests: acquires it, prints one JSON line (uri, pid, adopted), holds it
// until its stdin ends (or SIGTERM), then releases it and exits; with `exit`, it exits then without releasing (as a
// second Ctrl-C does: process.exit(130)).
//   node --import tsx tests/runner/tracking/store-user.ts <store folder> [exit]
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
if (process.argv[3] === 'exit') process.exit(130);
await lease.release();
