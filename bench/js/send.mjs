// send.mjs is the JS benchmark client: the official @azure/notification-hubs
// SDK (pinned in package.json), unmodified and with default client options,
// calling sendNotification with a tag expression from CONC concurrent
// async loops. It prints one result line in Go benchmark format, like
// bench/cmd/benchclient:
//
//   BenchmarkSend/server=sink/client=js/payload=fcmv1/conc=64 N ns/op sends/s sends/cpu-s peak-rss-B
//
// Usage: node send.mjs [--conc 64] [--duration-ms 3000] [--warmup-ms 300]
//                      [--payload fcmv1|apple] [--hub bench] [--server sink]
// The connection string comes from BENCH_CONNECTION_STRING and is never
// printed; trust the server's certificate with NODE_EXTRA_CA_CERTS.

import {
  NotificationHubsClient,
  createAppleNotification,
  createFcmV1Notification,
} from "@azure/notification-hubs";

const FCM_V1_PAYLOAD =
  '{"message":{"notification":{"title":"Order shipped","body":"Your order 1234 is on its way"},"data":{"orderId":"1234","kind":"shipping"}}}';
const APPLE_PAYLOAD =
  '{"aps":{"alert":{"title":"Order shipped","body":"Your order 1234 is on its way"},"badge":1},"orderId":"1234"}';
const MAX_SENDS = 5_000_000;

function parseArgs(argv) {
  const o = { conc: 1, durationMs: 3000, warmupMs: 300, payload: "fcmv1", hub: "bench", server: "sink", tagExpression: "user_42 && !muted" };
  const names = { "--conc": "conc", "--duration-ms": "durationMs", "--warmup-ms": "warmupMs", "--payload": "payload", "--hub": "hub", "--server": "server", "--tag-expression": "tagExpression" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      throw new Error(`send.mjs: unknown or incomplete argument ${argv[i]}`);
    }
    o[key] = typeof o[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!Number.isInteger(o.conc) || o.conc < 1 || o.conc > 1024) {
    throw new Error(`send.mjs: --conc ${o.conc}: want 1 to 1024`);
  }
  return o;
}

function notification(payload) {
  switch (payload) {
    case "fcmv1":
      return createFcmV1Notification({ body: FCM_V1_PAYLOAD });
    case "apple":
      return createAppleNotification({
        body: APPLE_PAYLOAD,
        headers: { "apns-push-type": "alert", "apns-priority": "10" },
      });
  }
  throw new Error(`send.mjs: --payload ${payload}: want fcmv1 or apple`);
}

// loop runs conc concurrent senders until durationMs has passed or
// MAX_SENDS sends were started; it returns the number of completed sends.
async function loop(client, n, o, durationMs) {
  const deadline = performance.now() + durationMs;
  let started = 0;
  let done = 0;
  const opts = { tagExpression: o.tagExpression };
  async function worker() {
    while (performance.now() < deadline && ++started <= MAX_SENDS) {
      await client.sendNotification(n, opts);
      done++;
    }
  }
  await Promise.all(Array.from({ length: o.conc }, worker));
  return done;
}

/** formatNumber prints v without an exponent, rounded to digits places. */
export function formatNumber(v, digits) {
  return Number(v.toFixed(digits)).toString();
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const cs = process.env.BENCH_CONNECTION_STRING;
  if (!cs) {
    throw new Error("send.mjs: set BENCH_CONNECTION_STRING");
  }
  const client = new NotificationHubsClient(cs, o.hub);
  const n = notification(o.payload);
  if (o.warmupMs > 0) {
    await loop(client, n, o, o.warmupMs);
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const sends = await loop(client, n, o, o.durationMs);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const name = `BenchmarkSend/server=${o.server}/client=js/payload=${o.payload}/conc=${o.conc}`;
  const fields = [name, String(sends)];
  if (sends > 0) {
    fields.push(`${formatNumber(wallNs / sends, 1)} ns/op`);
  }
  fields.push(`${formatNumber(sends / (wallNs / 1e9), 1)} sends/s`);
  if (cpuS > 0) {
    fields.push(`${formatNumber(sends / cpuS, 1)} sends/cpu-s`);
  }
  fields.push(`${peakRss} peak-rss-B`);
  console.log(fields.join("\t"));
}

main().catch((e) => {
  // Never print the connection string: only the error's code and message.
  console.error(`send.mjs: ${e?.code ?? ""} ${e?.message ?? e}`);
  process.exit(1);
});
