// @ts-check
/**
 * The local S3 server (s3rver, disk-backed) in its own process, started by local/s3-server.ts.
 *
 * Why a child process: s3rver signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3
 * only offers under --openssl-legacy-provider, a flag better kept out of the CLI's own process.
 * s3rver announces object events only in-process, so they are forwarded to the parent over IPC.
 */
const S3rver = require('s3rver');

const options = JSON.parse(process.argv[2]);
const server = new S3rver({
  address: '127.0.0.1',
  port: options.port ?? 0,
  silent: true,
  directory: options.directory,
  configureBuckets: options.buckets.map((name) => ({ name })),
});

server.on('event', (event) => process.send?.({ type: 'event', event }));
server.run().then(
  (address) => process.send?.({ type: 'ready', port: address.port }),
  (error) => {
    process.send?.({ type: 'failed', message: String(error && error.message) });
    process.exit(1);
  },
);
// The parent going away (even by SIGKILL) closes the IPC channel: stop with it.
process.on('disconnect', () => process.exit(0));
