// Sends: every notification factory through tag, broadcast, direct, batch,
// test and scheduled sends. What each send should have delivered is written
// to the interop report for the Go side to check against the emulator.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createAdmNotification,
  createAdmNotificationBody,
  createAdmRegistrationDescription,
  createAppleNotification,
  createAppleNotificationBody,
  createAppleRegistrationDescription,
  createAppleTemplateRegistrationDescription,
  createBaiduNotification,
  createBaiduNotificationBody,
  createBaiduRegistrationDescription,
  createBrowserNotification,
  createBrowserRegistrationDescription,
  createFcmLegacyNotification,
  createFirebaseLegacyNotificationBody,
  createFcmLegacyRegistrationDescription,
  createFcmV1Notification,
  createFirebaseV1NotificationBody,
  createFcmV1RegistrationDescription,
  createFcmV1TemplateRegistrationDescription,
  createTagExpression,
  createTemplateNotification,
  createWindowsBadgeNotification,
  createWindowsBadgeNotificationBody,
  createWindowsNotification,
  createWindowsRawNotification,
  createWindowsRegistrationDescription,
  createWindowsTileNotification,
  createWindowsToastNotification,
  createXiaomiNotification,
  createXiaomiRegistrationDescription,
} from "@azure/notification-hubs";
import {
  apnsToken,
  browserChannel,
  expectDeliveries,
  fcmToken,
  newClient,
  uid,
  wnsChannel,
} from "./helpers.mjs";

const client = newClient();

describe("sends", () => {
  const T = uid("send"); // every device below carries T
  const TA = uid("sendapple"); // only the native apple device carries TA
  const dev = {
    apple: apnsToken(),
    appleT: apnsToken(),
    adm: fcmToken("amzn1.adm"),
    baidu: { baiduUserId: uid("bu"), baiduChannelId: uid("bc") },
    browser: browserChannel(),
    gcm: fcmToken("gcm"),
    v1: fcmToken("v1"),
    v1T: fcmToken("v1t"),
    wns: wnsChannel(),
    xiaomi: fcmToken("xm"),
  };
  const A = dev.apple.toUpperCase();
  const AT = dev.appleT.toUpperCase();
  const regIds = {};

  before(async () => {
    const descs = {
      apple: createAppleRegistrationDescription({ deviceToken: dev.apple, tags: [T, TA] }),
      appleT: createAppleTemplateRegistrationDescription({
        deviceToken: dev.appleT,
        tags: [T],
        bodyTemplate: '{"aps":{"alert":"$(message)","badge":"#(badge)"}}',
        templateName: "appletpl",
      }),
      adm: createAdmRegistrationDescription({ admRegistrationId: dev.adm, tags: [T] }),
      baidu: createBaiduRegistrationDescription({ ...dev.baidu, tags: [T] }),
      browser: createBrowserRegistrationDescription({ ...dev.browser, tags: [T] }),
      gcm: createFcmLegacyRegistrationDescription({ gcmRegistrationId: dev.gcm, tags: [T] }),
      v1: createFcmV1RegistrationDescription({ fcmV1RegistrationId: dev.v1, tags: [T] }),
      v1T: createFcmV1TemplateRegistrationDescription({
        fcmV1RegistrationId: dev.v1T,
        tags: [T],
        bodyTemplate: '{"message":{"notification":{"title":"$(title)","body":"$(message)"}}}',
        templateName: "v1tpl",
      }),
      wns: createWindowsRegistrationDescription({ channelUri: dev.wns, tags: [T] }),
      xiaomi: createXiaomiRegistrationDescription({ xiaomiRegistrationId: dev.xiaomi, tags: [T] }),
    };
    for (const [k, d] of Object.entries(descs)) {
      regIds[k] = (await client.createRegistration(d)).registrationId;
    }
  });

  // Native sends to T: each reaches exactly the one native registration of
  // its platform, never the template registrations.
  const nativeCases = [
    {
      name: "apple",
      make: () =>
        createAppleNotification({
          body: createAppleNotificationBody({ alert: { title: "t", body: "apple native" }, badge: 1 }),
          headers: { "apns-push-type": "alert", "apns-priority": "10" },
        }),
      handle: () => A,
      headers: { "apns-push-type": "alert", "apns-priority": "10" },
    },
    {
      name: "adm",
      make: () => createAdmNotification({ body: createAdmNotificationBody({ data: { message: "adm native" } }) }),
      handle: () => dev.adm,
    },
    {
      name: "baidu",
      make: () =>
        createBaiduNotification({ body: createBaiduNotificationBody({ title: "t", description: "baidu native" }) }),
      handle: () => dev.baidu.baiduChannelId,
      handleAny: () => [dev.baidu.baiduChannelId, dev.baidu.baiduUserId, `${dev.baidu.baiduUserId}-${dev.baidu.baiduChannelId}`],
    },
    {
      name: "browser",
      make: () => createBrowserNotification({ body: { title: "t", body: "browser native" } }),
      handle: () => dev.browser.endpoint,
    },
    {
      name: "gcm",
      make: () =>
        createFcmLegacyNotification({
          body: createFirebaseLegacyNotificationBody({ data: { message: "gcm native" } }),
        }),
      handle: () => dev.gcm,
    },
    {
      name: "fcmv1",
      make: () =>
        createFcmV1Notification({
          body: createFirebaseV1NotificationBody({
            message: { notification: { title: "t", body: "fcmv1 native" }, data: { k: "v" } },
          }),
        }),
      handle: () => dev.v1,
    },
    {
      name: "xiaomi",
      make: () => createXiaomiNotification({ body: { title: "t", description: "xiaomi native" } }),
      handle: () => dev.xiaomi,
    },
    {
      name: "windows toast",
      format: "windows",
      make: () =>
        createWindowsToastNotification({
          body: '<toast><visual><binding template="ToastText01"><text id="1">toast</text></binding></visual></toast>',
        }),
      handle: () => dev.wns,
      headers: { "X-WNS-Type": "wns/toast" },
    },
    {
      name: "windows tile",
      format: "windows",
      make: () =>
        createWindowsTileNotification({
          body: '<tile><visual><binding template="TileSquareText01"><text id="1">tile</text></binding></visual></tile>',
        }),
      handle: () => dev.wns,
      headers: { "X-WNS-Type": "wns/tile" },
    },
    {
      name: "windows badge",
      format: "windows",
      make: () => createWindowsBadgeNotification({ body: createWindowsBadgeNotificationBody({ value: 7 }) }),
      handle: () => dev.wns,
      headers: { "X-WNS-Type": "wns/badge" },
    },
    {
      name: "windows raw",
      format: "windows",
      make: () => createWindowsRawNotification({ body: "raw bytes, not XML" }),
      handle: () => dev.wns,
      headers: { "X-WNS-Type": "wns/raw" },
    },
    {
      name: "windows generic (toast via header)",
      format: "windows",
      make: () =>
        createWindowsNotification({
          body: "<toast><visual><binding template=\"ToastText01\"><text id=\"1\">generic</text></binding></visual></toast>",
          headers: { "X-WNS-Type": "wns/toast" },
        }),
      handle: () => dev.wns,
      headers: { "X-WNS-Type": "wns/toast" },
    },
  ];

  for (const c of nativeCases) {
    test(`sendNotification ${c.name} to a tag`, async () => {
      const n = c.make();
      const res = await client.sendNotification(n, { tagExpression: T });
      assert.ok(res.notificationId, "a tag send returns a notification id");
      assert.ok(res.location?.startsWith("https://"), "Location is an https URL");
      assert.equal(res.state, "Enqueued");
      assert.ok(res.trackingId, "response carries a TrackingId");
      assert.ok(res.correlationId, "response carries x-ms-correlation-request-id");
      const h = c.handle();
      expectDeliveries({
        name: `native ${c.name} send to tag`,
        notificationId: res.notificationId,
        handles: c.handleAny ? undefined : [h],
        oneOf: c.handleAny?.(),
        count: 1,
        exact: !c.handleAny,
        format: c.format ?? c.name,
        headers: c.headers,
        payloads: c.handleAny ? undefined : { [h]: n.body },
        test: false,
        direct: false,
      });
    });
  }

  test("template send expands every matching template registration", async () => {
    const n = createTemplateNotification({ body: { message: "Hello", title: "T1", badge: "3" } });
    const res = await client.sendNotification(n, { tagExpression: T });
    assert.ok(res.notificationId);
    expectDeliveries({
      name: "template send to tag",
      notificationId: res.notificationId,
      handles: [AT, dev.v1T],
      exact: true,
      format: "template",
      payloads: {
        [AT]: '{"aps":{"alert":"Hello","badge":3}}',
        [dev.v1T]: '{"message":{"notification":{"title":"T1","body":"Hello"}}}',
      },
    });
  });

  test("tag expression with && || ! and createTagExpression", async () => {
    const body = '{"aps":{"alert":"expr"}}';
    const nobody = uid("nobody");
    const r1 = await client.sendNotification(createAppleNotification({ body }), {
      tagExpression: `(${T} && ${TA}) || ${nobody}`,
    });
    expectDeliveries({ name: "expression (T && TA) || nobody", notificationId: r1.notificationId, handles: [A], exact: true });

    const r2 = await client.sendNotification(createAppleNotification({ body }), {
      tagExpression: `${T} && !${TA}`,
    });
    expectDeliveries({ name: "expression T && !TA (apple native)", notificationId: r2.notificationId, handles: [], exact: true });

    assert.equal(createTagExpression([TA, nobody]), `${TA}||${nobody}`);
    const r3 = await client.sendNotification(createAppleNotification({ body }), {
      tagExpression: createTagExpression([TA, nobody]),
    });
    expectDeliveries({ name: "createTagExpression", notificationId: r3.notificationId, handles: [A], exact: true });
  });

  test("sendBroadcastNotification reaches every native registration of the platform", async () => {
    const body = createFirebaseV1NotificationBody({ message: { data: { b: "broadcast" } } });
    const res = await client.sendBroadcastNotification(createFcmV1Notification({ body }));
    assert.ok(res.notificationId);
    // Other test files may have fcmv1 devices too: require ours, allow more.
    expectDeliveries({
      name: "fcmv1 broadcast",
      notificationId: res.notificationId,
      handles: [dev.v1],
      exact: false,
      excludes: [dev.v1T],
      format: "fcmv1",
      payloads: { [dev.v1]: body },
    });
  });

  test("direct send to a device handle needs no registration", async () => {
    const handle = fcmToken("direct");
    const body = '{"message":{"notification":{"body":"direct"}}}';
    const res = await client.sendNotification(createFcmV1Notification({ body }), { deviceHandle: handle });
    assert.ok(res.notificationId);
    expectDeliveries({
      name: "direct fcmv1",
      notificationId: res.notificationId,
      handles: [handle],
      exact: true,
      direct: true,
      payloads: { [handle]: body },
    });

    const token = apnsToken().toUpperCase();
    const r2 = await client.sendNotification(createAppleNotification({ body: '{"aps":{"alert":"d"}}' }), {
      deviceHandle: token,
    });
    expectDeliveries({ name: "direct apple", notificationId: r2.notificationId, handles: [token], exact: true, direct: true });
  });

  test("direct send to a browser push channel", async () => {
    const ch = browserChannel();
    const res = await client.sendNotification(createBrowserNotification({ body: { title: "b" } }), {
      deviceHandle: ch,
    });
    assert.ok(res.notificationId);
    expectDeliveries({
      name: "direct browser",
      notificationId: res.notificationId,
      handles: [ch.endpoint],
      exact: true,
      direct: true,
      headers: { P256DH: ch.p256dh, Auth: ch.auth },
    });
  });

  test("batch direct send to a list of handles", async () => {
    const handles = [fcmToken("b1"), fcmToken("b2"), fcmToken("b3")];
    const body = '{"message":{"data":{"batch":"yes"}}}';
    const res = await client.sendNotification(createFcmV1Notification({ body }), { deviceHandle: handles });
    assert.ok(res.notificationId, "batch send returns a notification id");
    assert.notEqual(res.notificationId, "$batch", "the SDK reads the id from Location path segment 3");
    expectDeliveries({
      name: "batch direct fcmv1",
      notificationId: res.notificationId,
      handles,
      exact: true,
      direct: true,
      payloads: Object.fromEntries(handles.map((h) => [h, body])),
    });

    const wh = [wnsChannel(), wnsChannel()];
    const toast = '<toast><visual><binding template="ToastText01"><text id="1">b</text></binding></visual></toast>';
    const r2 = await client.sendNotification(createWindowsToastNotification({ body: toast }), { deviceHandle: wh });
    expectDeliveries({
      name: "batch direct windows",
      notificationId: r2.notificationId,
      handles: wh,
      exact: true,
      direct: true,
      headers: { "X-WNS-Type": "wns/toast" },
    });
  });

  test("test send returns the NotificationOutcome", async () => {
    const res = await client.sendNotification(createAppleNotification({ body: '{"aps":{"alert":"test"}}' }), {
      tagExpression: TA,
      enableTestSend: true,
    });
    assert.equal(res.state, "DetailedStateAvailable");
    assert.equal(res.successCount, 1);
    assert.equal(res.failureCount, 0);
    assert.equal(res.results.length, 1);
    const r = res.results[0];
    assert.equal(r.applicationPlatform, "apple");
    assert.equal(r.pnsHandle, A);
    assert.equal(r.registrationId, regIds.apple);
    assert.ok(r.outcome.length > 0, "outcome text is present");
    if (res.notificationId) {
      expectDeliveries({ name: "test send", notificationId: res.notificationId, handles: [A], exact: true, test: true });
    }

    const tpl = await client.sendNotification(createTemplateNotification({ body: { message: "m" } }), {
      tagExpression: T,
      enableTestSend: true,
    });
    assert.equal(tpl.successCount, 2, "two template registrations match");
    assert.deepEqual(
      tpl.results.map((x) => x.registrationId).sort(),
      [regIds.appleT, regIds.v1T].sort(),
    );

    const none = await client.sendNotification(createAppleNotification({ body: '{"aps":{}}' }), {
      tagExpression: uid("nobody"),
      enableTestSend: true,
    });
    assert.equal(none.state, "DetailedStateAvailable");
    assert.equal(none.successCount, 0);
    assert.equal(none.failureCount, 0);
    assert.deepEqual(none.results, []);
  });

  test("broadcast test send (the SDK sends the tag header 'undefined')", async () => {
    // @azure/notification-hubs 2.1.0 sets ServiceBusNotification-Tags to the
    // string "undefined" here, so the service targets that literal tag.
    const res = await client.sendBroadcastNotification(createXiaomiNotification({ body: { title: "x" } }), {
      enableTestSend: true,
    });
    assert.equal(res.state, "DetailedStateAvailable");
    assert.equal(res.successCount, 0);
    assert.deepEqual(res.results, []);
  });

  test("scheduleNotification and cancelScheduledNotification", async (t) => {
    const when = new Date(Date.now() + 24 * 3600 * 1000);
    const sched = await client.scheduleNotification(when, createAppleNotification({ body: '{"aps":{"alert":"later"}}' }), {
      tagExpression: TA,
    });
    assert.ok(sched.notificationId, "schedule returns an id");
    assert.ok(sched.location?.includes("/schedulednotifications/"), `Location ${sched.location}`);
    await client.cancelScheduledNotification(sched.notificationId);
    expectDeliveries({ name: "cancelled scheduled send", notificationId: sched.notificationId, none: true });

    const b = await client.scheduleBroadcastNotification(
      when,
      createFcmV1Notification({ body: '{"message":{"data":{"s":"1"}}}' }),
    );
    assert.ok(b.notificationId);
    await client.cancelScheduledNotification(b.notificationId);
    expectDeliveries({ name: "cancelled scheduled broadcast", notificationId: b.notificationId, none: true });
    t.diagnostic("scheduled sends accepted and cancelled");
  });
});
