// Failures as the SDK surfaces them: wrong key (401), Listen-only key sending
// (403), missing items (404), stale ETags (412), bad input (400). No error
// message may carry a key.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createAppleInstallation,
  createAppleNotification,
  createAppleRegistrationDescription,
  createFcmV1RegistrationDescription,
  createTemplateNotification,
} from "@azure/notification-hubs";
import {
  apnsToken,
  collect,
  eventually,
  expectRestError,
  fcmToken,
  listenConnectionString,
  newClient,
  uid,
  wrongKeyConnectionString,
} from "./helpers.mjs";

const client = newClient();
const listen = newClient(listenConnectionString);
const wrong = newClient(wrongKeyConnectionString);

describe("authentication and rights", () => {
  test("a wrong key is refused with 401 on every kind of call", async () => {
    await expectRestError(wrong.getRegistration("does-not-matter"), 401);
    await expectRestError(wrong.createRegistrationId(), 401);
    await expectRestError(
      wrong.createRegistration(createAppleRegistrationDescription({ deviceToken: apnsToken(), tags: [uid("w")] })),
      401,
    );
    await expectRestError(wrong.getInstallation(uid("inst")), 401);
    await expectRestError(
      wrong.sendNotification(createAppleNotification({ body: '{"aps":{}}' }), { tagExpression: uid("w") }),
      401,
    );
    await expectRestError(collect(wrong.listRegistrations({ top: 1 })), 401);
  });

  test("a Listen-only key manages its own registrations and installations", async () => {
    const reg = await listen.createRegistration(
      createFcmV1RegistrationDescription({ fcmV1RegistrationId: fcmToken(), tags: [uid("l")] }),
    );
    assert.ok(reg.registrationId);
    const got = await listen.getRegistration(reg.registrationId);
    assert.equal(got.registrationId, reg.registrationId);
    await listen.deleteRegistration(reg.registrationId);

    const id = await listen.createRegistrationId();
    assert.ok(id);

    const installationId = uid("linst");
    await listen.createOrUpdateInstallation(createAppleInstallation({ installationId, pushChannel: apnsToken() }));
    await eventually(async () => {
      assert.equal((await listen.getInstallation(installationId)).installationId, installationId);
    });
    await listen.deleteInstallation(installationId);
  });

  test("a Listen-only key may not send (403)", async () => {
    const n = createAppleNotification({ body: '{"aps":{"alert":"no"}}' });
    await expectRestError(listen.sendNotification(n, { tagExpression: uid("l") }), 403);
    await expectRestError(listen.sendBroadcastNotification(n), 403);
    await expectRestError(listen.sendNotification(n, { deviceHandle: apnsToken() }), 403);
    await expectRestError(listen.sendNotification(n, { deviceHandle: [apnsToken(), apnsToken()] }), 403);
    await expectRestError(
      listen.sendNotification(createTemplateNotification({ body: { a: "b" } }), {
        tagExpression: uid("l"),
        enableTestSend: true,
      }),
      403,
    );
    await expectRestError(listen.scheduleNotification(new Date(Date.now() + 3600e3), n, { tagExpression: "x" }), 403);
  });

  test("a Listen-only key may not list by tag (Manage right)", async () => {
    // api-version 2020-06 answers 403 for a missing right; older ones 401.
    await expectRestError(collect(listen.listRegistrationsByTag(uid("l"))), 401, 403);
  });
});

describe("missing items and preconditions", () => {
  test("deleted registration: get, update and delete answer 404", async () => {
    const reg = await client.createRegistration(
      createAppleRegistrationDescription({ deviceToken: apnsToken(), tags: [uid("d")] }),
    );
    await client.deleteRegistration(reg.registrationId);
    const err = await expectRestError(client.getRegistration(reg.registrationId), 404);
    assert.ok(err.message.length > 0, "the 404 carries a message");
    await expectRestError(client.deleteRegistration(reg.registrationId), 404);
    await expectRestError(client.updateRegistration({ ...reg }), 404);
  });

  test("deleted installation: get and patch answer 404, delete still 204", async () => {
    const installationId = uid("dinst");
    await client.createOrUpdateInstallation(createAppleInstallation({ installationId, pushChannel: apnsToken() }));
    await client.deleteInstallation(installationId);
    await eventually(() => expectRestError(client.getInstallation(installationId), 404));
    await eventually(() =>
      expectRestError(
        client.updateInstallation(installationId, [{ op: "replace", path: "/pushChannel", value: apnsToken() }]),
        404,
      ),
    );
    await client.deleteInstallation(installationId);
  });

  test("stale ETag: update and delete answer 412", async () => {
    const reg = await client.createRegistration(
      createAppleRegistrationDescription({ deviceToken: apnsToken(), tags: [uid("e")] }),
    );
    const stale = { ...reg };
    const fresh = await client.updateRegistration({ ...reg, tags: [uid("e2")] });
    assert.notEqual(fresh.etag, stale.etag);
    await expectRestError(client.updateRegistration({ ...stale, tags: [uid("e3")] }), 412);
    await expectRestError(client.deleteRegistration(reg.registrationId, { etag: stale.etag }), 412);
    await client.deleteRegistration(reg.registrationId, { etag: fresh.etag });
  });

  test("update without an ETag is refused by the SDK before any request", async () => {
    const reg = createAppleRegistrationDescription({ deviceToken: apnsToken(), registrationId: "x" });
    await expectRestError(client.updateRegistration(reg), 400);
  });

  test("cancelling an unknown scheduled notification fails", async () => {
    await expectRestError(client.cancelScheduledNotification(uid("nosuch")), 404);
  });
});

describe("bad requests", () => {
  test("invalid tag characters on a registration answer 400", async () => {
    await expectRestError(
      client.createRegistration(createAppleRegistrationDescription({ deviceToken: apnsToken(), tags: ["bad tag!"] })),
      400,
    );
  });

  test("a malformed tag expression answers 400", async () => {
    await expectRestError(
      client.sendNotification(createAppleNotification({ body: '{"aps":{}}' }), { tagExpression: "(a && " }),
      400,
    );
  });

  test("an invalid APNs device token answers 400", async () => {
    await expectRestError(
      client.createRegistration(createAppleRegistrationDescription({ deviceToken: "not-hex", tags: [uid("x")] })),
      400,
    );
  });
});
