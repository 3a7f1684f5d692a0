// Shared helpers for the interop tests. They run the official
// @azure/notification-hubs SDK, unmodified, against the nhkit emulator.
//
// Environment:
//   NH_CONNECTION_STRING            full-rights (Listen, Send, Manage) connection string
//   NH_LISTEN_CONNECTION_STRING     Listen-only connection string
//   NH_WRONG_KEY_CONNECTION_STRING  optional; same rule name with a wrong key
//                                   (derived from NH_CONNECTION_STRING when unset)
//   NH_HUB                          hub name
//   NH_INTEROP_REPORT               optional; file to which expectations about
//                                   deliveries are appended as JSON lines, for
//                                   the Go side to check against the emulator
//   NH_READ_DELAY_MS                optional; the hub applies installation writes
//                                   in the background and reads may lag writes by
//                                   up to this many milliseconds (see eventually)
//   NH_JOB_CONTAINER_URL            optional; a blob container SAS URL jobs can
//                                   write to (the emulator's own blob store)
//
// No helper ever prints a connection string, key or signature.

import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { NotificationHubsClient, isRestError } from "@azure/notification-hubs";

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`interop: environment variable ${name} is not set (run through go test ./interop/)`);
  }
  return v;
}

export const connectionString = requireEnv("NH_CONNECTION_STRING");
export const listenConnectionString = requireEnv("NH_LISTEN_CONNECTION_STRING");
export const hubName = requireEnv("NH_HUB");

/** wrongKeyConnectionString is the full connection string with its key replaced. */
export const wrongKeyConnectionString =
  process.env.NH_WRONG_KEY_CONNECTION_STRING ||
  connectionString.replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=" + randomBytes(32).toString("base64"));

/** secretKeys holds the key values that must never show up in error messages. */
export const secretKeys = [connectionString, listenConnectionString]
  .map((cs) => /SharedAccessKey=([^;]*)/.exec(cs)?.[1])
  .filter(Boolean);

// No client-side retries: the emulator answers at once, a retried failure
// would only slow the suite, and a retried send would deliver twice and
// break the delivery counts the Go side checks. Everything else is the
// SDK's default.
const clientOptions = { retryOptions: { maxRetries: 0 } };

/** newClient returns a NotificationHubsClient for the given connection string. */
export function newClient(cs = connectionString) {
  return new NotificationHubsClient(cs, hubName, clientOptions);
}

/** RUN is unique per test process, so parallel test files never share ids or tags. */
export const RUN = randomUUID().replace(/-/g, "").slice(0, 10);

let seq = 0;
/** uid returns a fresh identifier safe for tags, installation ids and handles. */
export function uid(prefix) {
  seq++;
  return `${prefix}-${RUN}-${seq}`;
}

/** apnsToken returns a fresh 64-hex-digit APNs device token (lower case, to test upper-casing). */
export function apnsToken() {
  return randomBytes(32).toString("hex");
}

/** fcmToken returns a fresh FCM-like registration token. */
export function fcmToken(prefix = "fcm") {
  return `${prefix}:${RUN}_${randomBytes(12).toString("hex")}`;
}

/** wnsChannel returns a fresh WNS-like channel URI with characters that need escaping. */
export function wnsChannel() {
  return `https://wns.example.invalid/?token=AwYAAAD%2b${randomBytes(8).toString("hex")}%3d`;
}

/** browserChannel returns a fresh Web Push subscription. */
export function browserChannel() {
  return {
    endpoint: `https://webpush.example.invalid/send/${RUN}${randomBytes(8).toString("hex")}`,
    p256dh: "BIPUL12DLfytvTajnryr2PRdAgXS3HGKiLqndGcJGabyhHheJYlNGCeXl1dn18gSJ1WAkAPIxr4gK0_dQds4yiI",
    auth: randomBytes(16).toString("base64url"),
  };
}

/**
 * expectRestError awaits p and asserts it rejects with a RestError whose
 * statusCode is one of the wanted codes. It also checks that the message
 * carries no key. It returns the error.
 */
export async function expectRestError(p, ...statuses) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a RestError with status ${statuses.join(" or ")}, got success`);
  assert.ok(isRestError(err), `expected a RestError, got ${err?.name}: ${err?.message}`);
  assert.ok(
    statuses.includes(err.statusCode),
    `expected status ${statuses.join(" or ")}, got ${err.statusCode}: ${err.message}`,
  );
  for (const k of secretKeys) {
    assert.ok(!String(err.message).includes(k), "error message contains a shared access key");
  }
  return err;
}

/**
 * optionalFeature runs fn; if the emulator answers 404, 403 or 501 for an
 * optional (Standard-tier) feature, it checks the SDK surfaced a RestError and
 * skips the test with the reason. Any other failure propagates.
 */
export async function optionalFeature(t, what, fn) {
  try {
    return await fn();
  } catch (e) {
    if (isRestError(e) && [403, 404, 501].includes(e.statusCode)) {
      assert.equal(typeof e.message, "string");
      t.skip(`${what}: emulator answered ${e.statusCode} (feature not supported yet)`);
      return undefined;
    }
    throw e;
  }
}

/**
 * expectDeliveries records what the emulator should have delivered for a send,
 * for the Go side of the suite to check. Fields:
 *   name            test name, for messages
 *   notificationId  the id the SDK returned (filter key)
 *   handles         PNS handles that must have received it
 *   exact           when true, no other handle may have received it
 *   excludes        handles that must not have received it
 *   oneOf, count    when the handle form is uncertain (Baidu): exactly count
 *                   deliveries, each to one of these handles
 *   payloads        handle -> expected payload (JSON compared semantically)
 *   format          expected ServiceBusNotification-Format of the deliveries
 *   headers         header -> value that every delivery must carry
 *   test, direct    expected Test/Direct flags
 *   none            when true, the id must have produced no delivery at all
 */
export function expectDeliveries(rec) {
  const path = process.env.NH_INTEROP_REPORT;
  if (!path) {
    return;
  }
  appendFileSync(path, JSON.stringify({ hub: hubName, ...rec }) + "\n");
}

/**
 * readDelayMs is how long reads may lag installation writes (NH_READ_DELAY_MS);
 * 0 means reads show a write at once.
 */
export const readDelayMs = Math.max(0, Number(process.env.NH_READ_DELAY_MS ?? 0) || 0);

/**
 * eventually is the wait the service's documentation asks for after an
 * installation write: installations are processed in the background, so a
 * read right after a write may answer 404 or the previous state. It runs fn
 * (a read plus its assertions) and, while it throws, runs it again every
 * intervalMs until it passes or timeoutMs (default: the read delay plus 5 s)
 * have gone by; then it throws fn's last error. With no read delay
 * (NH_READ_DELAY_MS unset or 0) it runs fn exactly once, so a read that does
 * not show a write at once still fails.
 */
export async function eventually(fn, { intervalMs = 100, timeoutMs = readDelayMs + 5000 } = {}) {
  if (readDelayMs === 0) {
    return await fn();
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() + intervalMs > deadline) {
        throw e;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** collect drains an async iterable into an array. */
export async function collect(iter) {
  const out = [];
  for await (const x of iter) {
    out.push(x);
  }
  return out;
}
