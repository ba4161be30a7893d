// The RFC 8935 receiver of `pnpm bench:events`, in its own process so that its CPU is neither the gateway's nor
// the load generator's (and can be measured apart from both). Answers 202 at once to every POST /events and
// records when each SET arrived, keyed by `aud` and `txn` (the SCIM request id). PORT (0: any free port) is
// printed on stdout as `listening <port>` once bound to 127.0.0.1.
//   GET /arrivals  {"<aud> <txn>": <arrival, ms since the epoch with sub-millisecond precision>, ...}
//   GET /count     {"received": n}
import http from 'node:http';

const arrivals = new Map();
let received = 0;
// Wall-clock milliseconds with the monotonic clock's precision, comparable across processes on one machine.
const now = () => performance.timeOrigin + performance.now();

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/count' ? { received } : Object.fromEntries(arrivals)));
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const at = now();
    const body = Buffer.concat(chunks).toString('latin1');
    const first = body.indexOf('.');
    const payload = JSON.parse(Buffer.from(body.slice(first + 1, body.indexOf('.', first + 1)), 'base64url').toString('utf8'));
    arrivals.set(`${payload.aud} ${payload.txn}`, at);
    received += 1;
    res.statusCode = 202;
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
