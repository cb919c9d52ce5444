// Test tier (AWS emulator): before vitest starts, one line and a failure if moto is missing.
import { spawnSync } from 'node:child_process';

const probe = spawnSync(process.env.PYTHON ?? 'python3', ['-c', 'import moto.server, flask_cors'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error("test:aws needs moto: pip install 'moto[server]==5.2.1' boto3");
  process.exit(1);
}
