// Installations: every platform's factory, JSON Patch updates, deletion, the
// registrations an installation projects, and sends addressed to installations.
//
// The service queues installation writes and processes them in the background
// (docs/protocol.md, "Installation operations"), so every read that follows a write
// goes through eventually(): with NH_READ_DELAY_MS set it reads until the write
// shows; without it, it reads once.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createAdmInstallation,
  createAppleInstallation,
  createAppleNotification,
  createBaiduInstallation,
  createBrowserInstallation,
  createFcmLegacyInstallation,
  createFcmV1Installation,
  createFcmV1Notification,
  createTemplateNotification,
  createWindowsInstallation,
  createXiaomiInstallation,
} from "@azure/notification-hubs";
import {
  apnsToken,
  browserChannel,
  collect,
  eventually,
  expectDeliveries,
  expectRestError,
  fcmToken,
  newClient,
  readDelayMs,
  uid,
  wnsChannel,
} from "./helpers.mjs";

const client = newClient();

function sorted(a) {
  return [...(a ?? [])].sort();
}

describe("installations", () => {
  const platforms = [
    { platform: "apns", make: createAppleInstallation, channel: apnsToken, back: (c) => c.toUpperCase() },
    { platform: "adm", make: createAdmInstallation, channel: () => fcmToken("amzn1.adm") },
    { platform: "baidu", make: createBaiduInstallation, channel: () => `${uid("user")}-${uid("chan")}` },
    { platform: "browser", make: createBrowserInstallation, channel: browserChannel },
    { platform: "gcm", make: createFcmLegacyInstallation, channel: () => fcmToken("gcm") },
    { platform: "fcmv1", make: createFcmV1Installation, channel: () => fcmToken("v1") },
    { platform: "xiaomi", make: createXiaomiInstallation, channel: () => fcmToken("xm") },
    { platform: "wns", make: createWindowsInstallation, channel: wnsChannel },
  ];

  for (const p of platforms) {
    test(`${p.platform}: createOrUpdate, get, overwrite, delete`, async () => {
      const installationId = uid(`inst-${p.platform}`);
      const pushChannel = p.channel();
      const tags = [uid("it1"), uid("it2")];
      const res = await client.createOrUpdateInstallation(
        p.make({ installationId, pushChannel, tags, userId: uid("user") }),
      );
      assert.equal(typeof res, "object");

      await eventually(async () => {
        const got = await client.getInstallation(installationId);
        assert.equal(got.installationId, installationId);
        assert.equal(got.platform.toLowerCase(), p.platform);
        assert.deepEqual(got.pushChannel, p.back ? p.back(pushChannel) : pushChannel, "pushChannel");
        assert.deepEqual(sorted(got.tags), sorted(tags), "tags");
      });

      // PUT again overwrites the whole installation.
      const tags2 = [uid("it3")];
      await client.createOrUpdateInstallation(p.make({ installationId, pushChannel, tags: tags2 }));
      await eventually(async () => {
        const got2 = await client.getInstallation(installationId);
        assert.deepEqual(got2.tags, tags2, "overwrite replaces tags");
        assert.equal(got2.userId, undefined, "overwrite drops the userId");
      });

      await client.deleteInstallation(installationId);
      await eventually(() => expectRestError(client.getInstallation(installationId), 404));
      // Deleting a missing installation still succeeds (204) per the service.
      await client.deleteInstallation(installationId);
    });
  }

  test("read-after-write delay: a read right after a write shows the old state", { skip: readDelayMs === 0 && "NH_READ_DELAY_MS is not set" }, async () => {
    // The emulator runs with a read delay: for NH_READ_DELAY_MS after a
    // write, reads answer what they answered before it. This proves the
    // delay is on, so the eventually() waits above are exercised.
    const installationId = uid("inst-delay");
    const pushChannel = fcmToken();
    const tag1 = uid("d1");
    const tag2 = uid("d2");
    await client.createOrUpdateInstallation(createFcmV1Installation({ installationId, pushChannel, tags: [tag1] }));
    await expectRestError(client.getInstallation(installationId), 404);
    const first = await eventually(() => client.getInstallation(installationId));
    assert.deepEqual(first.tags, [tag1]);

    await client.createOrUpdateInstallation(createFcmV1Installation({ installationId, pushChannel, tags: [tag2] }));
    assert.deepEqual((await client.getInstallation(installationId)).tags, [tag1], "a read right after an overwrite shows the old tags");
    await eventually(async () => {
      assert.deepEqual((await client.getInstallation(installationId)).tags, [tag2]);
    });

    await client.updateInstallation(installationId, [{ op: "add", path: "/userId", value: "delayed-user" }]);
    assert.equal((await client.getInstallation(installationId)).userId, undefined, "a read right after a patch shows the old state");
    await eventually(async () => {
      assert.equal((await client.getInstallation(installationId)).userId, "delayed-user");
    });
    await client.deleteInstallation(installationId);
  });

  test("apns with templates, pushVariables and userId", async () => {
    const installationId = uid("inst-tpl");
    const userId = uid("u");
    const tag = uid("tpl");
    await client.createOrUpdateInstallation(
      createAppleInstallation({
        installationId,
        pushChannel: apnsToken(),
        userId,
        tags: [tag],
        pushVariables: { var1: "value1" },
        templates: {
          welcome: { body: '{"aps":{"alert":"$(message)"}}', headers: { "apns-priority": "10" }, tags: ["tt"] },
        },
      }),
    );
    await eventually(async () => {
      const got = await client.getInstallation(installationId);
      assert.equal(got.userId, userId);
      assert.deepEqual(got.pushVariables, { var1: "value1" });
      assert.equal(got.templates.welcome.body, '{"aps":{"alert":"$(message)"}}');
      assert.deepEqual(got.templates.welcome.headers, { "apns-priority": "10" });
      // The service adds the template name to the template's tags.
      assert.deepEqual(sorted(got.templates.welcome.tags), sorted(["tt", "welcome"]));
    });
    await client.deleteInstallation(installationId);
  });

  test("updateInstallation applies JSON Patch operations", async () => {
    const installationId = uid("inst-patch");
    const t1 = uid("p1");
    const t2 = uid("p2");
    const t3 = uid("p3");
    await client.createOrUpdateInstallation(
      createFcmV1Installation({
        installationId,
        pushChannel: fcmToken(),
        tags: [t1, t2],
        templates: { old: { body: '{"message":{"data":{"m":"$(m)"}}}', headers: {} } },
      }),
    );
    const newChannel = fcmToken("new");
    const res = await client.updateInstallation(installationId, [
      { op: "add", path: "/tags", value: t3 },
      { op: "remove", path: `/tags/${t1}` },
      { op: "replace", path: "/pushChannel", value: newChannel },
      { op: "add", path: "/userId", value: "patched-user" },
      {
        op: "add",
        path: "/templates/fresh",
        value: JSON.stringify({ body: '{"message":{"notification":{"body":"$(message)"}}}', tags: ["ft"] }),
      },
      { op: "remove", path: "/templates/old" },
    ]);
    assert.equal(typeof res, "object");

    await eventually(async () => {
      const got = await client.getInstallation(installationId);
      assert.deepEqual(sorted(got.tags), sorted([t2, t3]));
      assert.equal(got.pushChannel, newChannel);
      assert.equal(got.userId, "patched-user");
      assert.deepEqual(Object.keys(got.templates ?? {}), ["fresh"]);
      assert.equal(got.templates.fresh.body, '{"message":{"notification":{"body":"$(message)"}}}');
    });

    await client.updateInstallation(installationId, [{ op: "remove", path: "/userId" }]);
    await eventually(async () => {
      const got2 = await client.getInstallation(installationId);
      assert.equal(got2.userId, undefined, "remove /userId clears it");
      assert.deepEqual(sorted(got2.tags), sorted([t2, t3]), "the earlier patch still shows");
    });

    await client.deleteInstallation(installationId);
    await eventually(() =>
      expectRestError(client.updateInstallation(installationId, [{ op: "add", path: "/tags", value: "x" }]), 404),
    );
  });

  test("an installation projects registrations listed under $InstallationId", async () => {
    const installationId = uid("inst-proj");
    const token = apnsToken();
    await client.createOrUpdateInstallation(
      createAppleInstallation({
        installationId,
        pushChannel: token,
        tags: [uid("proj")],
        templates: { t: { body: '{"aps":{"alert":"$(m)"}}', headers: {} } },
      }),
    );
    await eventually(async () => {
      const regs = await collect(client.listRegistrationsByTag(`$InstallationId:{${installationId}}`));
      assert.deepEqual(sorted(regs.map((r) => r.kind)), ["Apple", "AppleTemplate"]);
      for (const r of regs) {
        assert.equal(r.deviceToken, token.toUpperCase());
        assert.ok(r.tags.includes(`$InstallationId:{${installationId}}`), `tags ${r.tags}`);
      }
    });
    await eventually(async () => {
      const byChannel = await collect(client.listRegistrationsByChannel({ kind: "apple", deviceToken: token }));
      assert.equal(byChannel.length, 2, "the installation's registrations are found by channel");
    });
    await client.deleteInstallation(installationId);
    await eventually(async () => {
      assert.deepEqual(await collect(client.listRegistrationsByTag(`$InstallationId:{${installationId}}`)), []);
    });
  });

  test("sends reach installations by $InstallationId, $UserId, tag and template name", async () => {
    const userId = uid("user");
    const tag = uid("isend");
    const a = { installationId: uid("inst-a"), pushChannel: apnsToken() };
    const f = { installationId: uid("inst-f"), pushChannel: fcmToken() };
    await client.createOrUpdateInstallation(
      createAppleInstallation({
        ...a,
        userId,
        tags: [tag],
        templates: { [`greet-${tag}`]: { body: '{"aps":{"alert":"$(message)"}}', headers: {} } },
      }),
    );
    await client.createOrUpdateInstallation(createFcmV1Installation({ ...f, userId, tags: [tag] }));
    const A = a.pushChannel.toUpperCase();

    const body = '{"aps":{"alert":"to installation"}}';
    const r1 = await client.sendNotification(createAppleNotification({ body }), {
      tagExpression: `$InstallationId:{${a.installationId}}`,
    });
    assert.ok(r1.notificationId, "send returns a notification id");
    expectDeliveries({
      name: "apple send to $InstallationId",
      notificationId: r1.notificationId,
      handles: [A],
      exact: true,
      format: "apple",
      payloads: { [A]: body },
    });

    const fbody = '{"message":{"notification":{"title":"t","body":"to user"}}}';
    const r2 = await client.sendNotification(createFcmV1Notification({ body: fbody }), {
      tagExpression: `$UserId:{${userId}}`,
    });
    expectDeliveries({
      name: "fcmv1 send to $UserId",
      notificationId: r2.notificationId,
      handles: [f.pushChannel],
      exact: true,
      format: "fcmv1",
      payloads: { [f.pushChannel]: fbody },
    });

    const r3 = await client.sendNotification(createTemplateNotification({ body: { message: "hi" } }), {
      tagExpression: `greet-${tag}`,
    });
    expectDeliveries({
      name: "template send to an installation template by its name",
      notificationId: r3.notificationId,
      handles: [A],
      exact: true,
      payloads: { [A]: '{"aps":{"alert":"hi"}}' },
    });

    // A native apple send to the shared tag reaches only the apple installation.
    const r4 = await client.sendNotification(createAppleNotification({ body }), { tagExpression: tag });
    expectDeliveries({ name: "apple send to installation tag", notificationId: r4.notificationId, handles: [A], exact: true });

    const outcome = await client.sendNotification(createAppleNotification({ body }), {
      tagExpression: tag,
      enableTestSend: true,
    });
    assert.equal(outcome.state, "DetailedStateAvailable");
    assert.equal(outcome.successCount, 1);
    assert.equal(outcome.failureCount, 0);
    assert.equal(outcome.results.length, 1);
    assert.equal(outcome.results[0].pnsHandle, A);

    await client.deleteInstallation(a.installationId);
    await client.deleteInstallation(f.installationId);
  });
});
