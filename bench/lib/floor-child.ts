/**
 * The dependency floor: the packages `tollgate serve` cannot run without, loaded together and nothing else
 * (no Tollgate code). bench/memory.ts measures this process with the same probe as the gateway.
 */
import '@grpc/grpc-js';
import 'undici';
import 'prom-client';
import 'zod';
import 'pino';
import 'better-sqlite3';
import 'yaml';

// stay up until the parent ends us, like an idle gateway
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
