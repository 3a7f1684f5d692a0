// Registrations: every platform's native and template description through the
// full lifecycle, registration ids, paging, and the by-tag and by-channel
// listings.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createAdmRegistrationDescription,
  createAdmTemplateRegistrationDescription,
  createAppleRegistrationDescription,
  createAppleTemplateRegistrationDescription,
  createBaiduRegistrationDescription,
  createBaiduTemplateRegistrationDescription,
  createBrowserRegistrationDescription,
  createBrowserTemplateRegistrationDescription,
  createFcmLegacyRegistrationDescription,
  createFcmLegacyTemplateRegistrationDescription,
  createFcmV1RegistrationDescription,
  createFcmV1TemplateRegistrationDescription,
  createWindowsRegistrationDescription,
  createWindowsTemplateRegistrationDescription,
  createXiaomiRegistrationDescription,
  createXiaomiTemplateRegistrationDescription,
} from "@azure/notification-hubs";
import {
  apnsToken,
  browserChannel,
  collect,
  expectRestError,
  fcmToken,
  newClient,
  uid,
  wnsChannel,
} from "./helpers.mjs";

const client = newClient();

const jsonTemplate = '{"data":{"message":"$(message)"}}';
const titledTemplate = '{"title":"$(title)","description":"$(message)"}';
const toastTemplate =
  '<toast><visual><binding template="ToastText01"><text id="1">$(message)</text></binding></visual></toast>';

// kinds lists, per registration kind, how to build a description with fresh
// handles, the handle fields to compare (with the form the service returns),
// and the channel to list it by.
function kinds() {
  const apple = apnsToken();
  const appleT = apnsToken();
  const adm = fcmToken("amzn1.adm");
  const admT = fcmToken("amzn1.adm");
  const baidu = { baiduUserId: uid("buser"), baiduChannelId: uid("bchan") };
  const baiduT = { baiduUserId: uid("buser"), baiduChannelId: uid("bchan") };
  const br = browserChannel();
  const brT = browserChannel();
  const gcm = fcmToken("gcm");
  const gcmT = fcmToken("gcm");
  const v1 = fcmToken("v1");
  const v1T = fcmToken("v1");
  const wns = wnsChannel();
  const wnsT = wnsChannel();
  const xm = fcmToken("xm");
  const xmT = fcmToken("xm");
  return [
    {
      kind: "Apple",
      make: (tags) => createAppleRegistrationDescription({ deviceToken: apple, tags }),
      want: { deviceToken: apple.toUpperCase() },
      channel: { kind: "apple", deviceToken: apple },
    },
    {
      kind: "AppleTemplate",
      make: (tags) =>
        createAppleTemplateRegistrationDescription({
          deviceToken: appleT,
          tags,
          bodyTemplate: '{"aps":{"alert":"$(message)"}}',
          templateName: "apple template",
          apnsHeaders: { "apns-push-type": "alert", "apns-priority": "10" },
        }),
      want: {
        deviceToken: appleT.toUpperCase(),
        bodyTemplate: '{"aps":{"alert":"$(message)"}}',
        templateName: "apple template",
        apnsHeaders: { "apns-push-type": "alert", "apns-priority": "10" },
      },
      channel: { kind: "apple", deviceToken: appleT },
    },
    {
      kind: "Adm",
      make: (tags) => createAdmRegistrationDescription({ admRegistrationId: adm, tags }),
      want: { admRegistrationId: adm },
      channel: { kind: "adm", admRegistrationId: adm },
    },
    {
      kind: "AdmTemplate",
      make: (tags) =>
        createAdmTemplateRegistrationDescription({
          admRegistrationId: admT,
          tags,
          bodyTemplate: jsonTemplate,
          templateName: "adm",
        }),
      want: { admRegistrationId: admT, bodyTemplate: jsonTemplate, templateName: "adm" },
      channel: { kind: "adm", admRegistrationId: admT },
    },
    {
      kind: "Baidu",
      make: (tags) => createBaiduRegistrationDescription({ ...baidu, tags }),
      want: baidu,
      channel: { kind: "baidu", ...baidu },
    },
    {
      kind: "BaiduTemplate",
      make: (tags) =>
        createBaiduTemplateRegistrationDescription({
          ...baiduT,
          tags,
          bodyTemplate: titledTemplate,
          templateName: "baidu",
        }),
      want: { ...baiduT, bodyTemplate: titledTemplate, templateName: "baidu" },
      channel: { kind: "baidu", ...baiduT },
    },
    {
      kind: "Browser",
      make: (tags) => createBrowserRegistrationDescription({ ...br, tags }),
      want: br,
      channel: { kind: "browser", ...br },
    },
    {
      kind: "BrowserTemplate",
      make: (tags) =>
        createBrowserTemplateRegistrationDescription({
          ...brT,
          tags,
          bodyTemplate: '{"title":"$(title)","body":"$(message)"}',
          templateName: "browser",
        }),
      want: { ...brT, bodyTemplate: '{"title":"$(title)","body":"$(message)"}', templateName: "browser" },
      channel: { kind: "browser", ...brT },
    },
    {
      kind: "Gcm",
      make: (tags) => createFcmLegacyRegistrationDescription({ gcmRegistrationId: gcm, tags }),
      want: { gcmRegistrationId: gcm },
      channel: { kind: "gcm", gcmRegistrationId: gcm },
    },
    {
      kind: "GcmTemplate",
      make: (tags) =>
        createFcmLegacyTemplateRegistrationDescription({
          gcmRegistrationId: gcmT,
          tags,
          bodyTemplate: jsonTemplate,
          templateName: "gcm",
        }),
      want: { gcmRegistrationId: gcmT, bodyTemplate: jsonTemplate, templateName: "gcm" },
      channel: { kind: "gcm", gcmRegistrationId: gcmT },
    },
    {
      kind: "FcmV1",
      make: (tags) => createFcmV1RegistrationDescription({ fcmV1RegistrationId: v1, tags }),
      want: { fcmV1RegistrationId: v1 },
      channel: { kind: "fcmv1", fcmV1RegistrationId: v1 },
    },
    {
      kind: "FcmV1Template",
      make: (tags) =>
        createFcmV1TemplateRegistrationDescription({
          fcmV1RegistrationId: v1T,
          tags,
          bodyTemplate: '{"message":{"notification":{"title":"$(title)","body":"$(message)"}}}',
          templateName: "fcmv1",
        }),
      want: {
        fcmV1RegistrationId: v1T,
        bodyTemplate: '{"message":{"notification":{"title":"$(title)","body":"$(message)"}}}',
        templateName: "fcmv1",
      },
      channel: { kind: "fcmv1", fcmV1RegistrationId: v1T },
    },
    {
      kind: "Windows",
      make: (tags) => createWindowsRegistrationDescription({ channelUri: wns, tags }),
      want: { channelUri: wns },
      channel: { kind: "windows", channelUri: wns },
    },
    {
      kind: "WindowsTemplate",
      make: (tags) =>
        createWindowsTemplateRegistrationDescription({
          channelUri: wnsT,
          tags,
          bodyTemplate: toastTemplate,
          templateName: "toast",
          wnsHeaders: { "X-WNS-Type": "wns/toast" },
        }),
      want: {
        channelUri: wnsT,
        bodyTemplate: toastTemplate,
        templateName: "toast",
        wnsHeaders: { "X-WNS-Type": "wns/toast" },
      },
      channel: { kind: "windows", channelUri: wnsT },
    },
    {
      kind: "Xiaomi",
      make: (tags) => createXiaomiRegistrationDescription({ xiaomiRegistrationId: xm, tags }),
      want: { xiaomiRegistrationId: xm },
      // The SDK's listRegistrationsByChannel has no Xiaomi filter.
      channel: undefined,
    },
    {
      kind: "XiaomiTemplate",
      make: (tags) =>
        createXiaomiTemplateRegistrationDescription({
          xiaomiRegistrationId: xmT,
          tags,
          bodyTemplate: titledTemplate,
          templateName: "xiaomi",
        }),
      want: { xiaomiRegistrationId: xmT, bodyTemplate: titledTemplate, templateName: "xiaomi" },
      channel: undefined,
    },
  ];
}

function sorted(a) {
  return [...(a ?? [])].sort();
}

function assertFields(got, want, kind, what) {
  assert.equal(got.kind, kind, `${what}: kind`);
  for (const [k, v] of Object.entries(want)) {
    assert.deepEqual(got[k], v, `${what}: ${k}`);
  }
}

describe("registrations", () => {
  for (const k of kinds()) {
    test(`${k.kind} lifecycle: create, get, upsert, update with ETag, delete`, async () => {
      const tagA = uid("rega");
      const tagB = uid("regb");

      const created = await client.createRegistration(k.make([tagA, tagB]));
      assert.ok(created.registrationId, "created registration has an id");
      assert.ok(created.etag, "created registration has an ETag");
      assert.ok(created.expirationTime instanceof Date, "created registration has an expiration time");
      assertFields(created, k.want, k.kind, "create");
      assert.deepEqual(sorted(created.tags), sorted([tagA, tagB]), "create: tags");
      const id = created.registrationId;

      const got = await client.getRegistration(id);
      assertFields(got, k.want, k.kind, "get");
      assert.equal(got.registrationId, id);
      assert.equal(got.etag, created.etag, "get returns the same ETag as create");
      assert.deepEqual(sorted(got.tags), sorted([tagA, tagB]), "get: tags");

      // Upsert (PUT without If-Match) overwrites and bumps the ETag.
      const tagC = uid("regc");
      const upserted = await client.createOrUpdateRegistration({ ...got, tags: [tagA, tagC] });
      assert.equal(upserted.registrationId, id, "upsert keeps the id");
      assertFields(upserted, k.want, k.kind, "upsert");
      assert.deepEqual(sorted(upserted.tags), sorted([tagA, tagC]), "upsert: tags");
      assert.notEqual(upserted.etag, got.etag, "upsert changes the ETag");

      // Update (PUT with If-Match) with the current ETag.
      const updated = await client.updateRegistration({ ...upserted, tags: [tagC] });
      assert.equal(updated.registrationId, id);
      assert.deepEqual(updated.tags, [tagC], "update: tags");
      assert.notEqual(updated.etag, upserted.etag, "update changes the ETag");

      // The same update again carries a stale ETag: 412.
      await expectRestError(client.updateRegistration({ ...upserted, tags: [tagA] }), 412);
      const after = await client.getRegistration(id);
      assert.deepEqual(after.tags, [tagC], "a refused update changes nothing");

      await client.deleteRegistration(id, { etag: updated.etag });
      await expectRestError(client.getRegistration(id), 404);
      await expectRestError(client.deleteRegistration(id), 404);
    });
  }

  test("createRegistrationId then createOrUpdateRegistration with that id", async () => {
    const id = await client.createRegistrationId();
    assert.equal(typeof id, "string");
    assert.ok(id.length > 0, "registration id is not empty");
    assert.ok(!id.includes("?") && !id.includes("/"), `registration id ${JSON.stringify(id)} is a bare id`);

    const id2 = await client.createRegistrationId();
    assert.notEqual(id2, id, "two registration ids differ");

    const token = apnsToken();
    const tag = uid("regid");
    const reg = await client.createOrUpdateRegistration(
      createAppleRegistrationDescription({ registrationId: id, deviceToken: token, tags: [tag] }),
    );
    assert.equal(reg.registrationId, id);
    assert.equal(reg.deviceToken, token.toUpperCase());
    const got = await client.getRegistration(id);
    assert.equal(got.registrationId, id);
    assert.deepEqual(got.tags, [tag]);
    await client.deleteRegistration(id);
  });

  test("pushVariables round-trip", async () => {
    const reg = await client.createRegistration(
      createFcmV1RegistrationDescription({
        fcmV1RegistrationId: fcmToken(),
        tags: [uid("pv")],
        pushVariables: { var1: "value1", other: "x y" },
      }),
    );
    const got = await client.getRegistration(reg.registrationId);
    assert.deepEqual(got.pushVariables, { var1: "value1", other: "x y" });
    await client.deleteRegistration(reg.registrationId);
  });

  test("listRegistrationsByTag pages through more than two pages", async () => {
    const tag = uid("page");
    const ids = [];
    for (let i = 0; i < 7; i++) {
      const r = await client.createRegistration(
        createFcmV1RegistrationDescription({ fcmV1RegistrationId: fcmToken(), tags: [tag] }),
      );
      ids.push(r.registrationId);
    }
    const pages = await collect(client.listRegistrationsByTag(tag, { top: 3 }).byPage({ maxPageSize: 3 }));
    const sizes = pages.map((p) => p.length);
    assert.ok(pages.length >= 3, `expected at least 3 pages, got sizes ${JSON.stringify(sizes)}`);
    for (const p of pages) {
      assert.ok(p.length <= 3, `page larger than $top=3: sizes ${JSON.stringify(sizes)}`);
    }
    const seen = pages.flat().map((r) => r.registrationId);
    assert.deepEqual(sorted(seen), sorted(ids), "paging returns every registration exactly once");

    // Item iteration follows the same continuation tokens.
    const items = await collect(client.listRegistrationsByTag(tag, { top: 2 }));
    assert.deepEqual(sorted(items.map((r) => r.registrationId)), sorted(ids));

    for (const id of ids) {
      await client.deleteRegistration(id);
    }
    const empty = await collect(client.listRegistrationsByTag(tag));
    assert.deepEqual(empty, [], "an unused tag lists nothing");
  });

  test("listRegistrations pages through all registrations", async () => {
    const tag = uid("all");
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.createRegistration(
        createAppleRegistrationDescription({ deviceToken: apnsToken(), tags: [tag] }),
      );
      ids.push(r.registrationId);
    }
    const pages = await collect(client.listRegistrations({ top: 2 }).byPage({ maxPageSize: 2 }));
    assert.ok(pages.length > 2, `expected more than 2 pages, got ${pages.length}`);
    for (const p of pages) {
      assert.ok(p.length <= 2, `page larger than $top=2: ${p.length}`);
    }
    const seen = pages.flat().map((r) => r.registrationId);
    assert.equal(new Set(seen).size, seen.length, "no registration is listed twice");
    for (const id of ids) {
      assert.ok(seen.includes(id), `registration ${id} missing from the listing`);
    }
    for (const id of ids) {
      await client.deleteRegistration(id);
    }
  });

  describe("listRegistrationsByChannel", () => {
    for (const k of kinds()) {
      if (!k.channel) {
        continue;
      }
      test(`${k.kind} by channel ${k.channel.kind}`, async () => {
        const tag = uid("chan");
        const a = await client.createRegistration(k.make([tag]));
        const b = await client.createRegistration(k.make([tag, uid("chan2")]));
        const found = await collect(client.listRegistrationsByChannel(k.channel));
        assert.deepEqual(
          sorted(found.map((r) => r.registrationId)),
          sorted([a.registrationId, b.registrationId]),
          "both registrations with this handle, and no other",
        );
        for (const r of found) {
          assertFields(r, k.want, k.kind, "listed");
        }
        await client.deleteRegistration(a.registrationId);
        await client.deleteRegistration(b.registrationId);
        assert.deepEqual(await collect(client.listRegistrationsByChannel(k.channel)), []);
      });
    }
  });
});
