// Standard-tier extras: per-message telemetry, the PNS feedback container and
// import/export jobs. Where the emulator does not offer one yet (404, 403 or
// 501) the test checks the SDK surfaced a RestError and skips with the reason.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createAppleNotification,
  createAppleRegistrationDescription,
} from "@azure/notification-hubs";
import { apnsToken, expectRestError, newClient, optionalFeature, uid } from "./helpers.mjs";

// jobContainer is a container jobs can write to: the emulator's own blob
// store when the Go harness gives one (NH_JOB_CONTAINER_URL), else an address
// that cannot resolve, where a job can only end Failed.
const jobContainer = process.env.NH_JOB_CONTAINER_URL;
const outputContainerUrl = jobContainer || "https://storage.example.invalid/export?sv=2020-01-01&sp=rwl&sig=redacted";

const client = newClient();

const outcomeStates = ["Enqueued", "DetailedStateAvailable", "Processing", "Completed", "Abandoned", "Unknown", "NoTargetFound", "Cancelled", "Canceled", "Scheduled"];

describe("telemetry, feedback and jobs", () => {
  test("getNotificationOutcomeDetails for a tag send", async (t) => {
    const tag = uid("tel");
    const token = apnsToken();
    const reg = await client.createRegistration(createAppleRegistrationDescription({ deviceToken: token, tags: [tag] }));
    const body = '{"aps":{"alert":"telemetry"}}';
    const sent = await client.sendNotification(createAppleNotification({ body }), { tagExpression: tag });
    assert.ok(sent.notificationId);

    const details = await optionalFeature(t, "getNotificationOutcomeDetails", () =>
      client.getNotificationOutcomeDetails(sent.notificationId),
    );
    if (details) {
      assert.equal(details.notificationId, sent.notificationId);
      assert.ok(outcomeStates.includes(details.state), `state ${details.state}`);
      if (details.state === "Completed") {
        assert.ok(details.apnsOutcomeCounts?.length > 0, "apple outcome counts are present");
        const success = details.apnsOutcomeCounts.find((o) => o.state === "Success");
        assert.equal(success?.count, 1, "one successful apple delivery");
      }
      if (details.tags !== undefined) {
        assert.equal(details.tags, tag);
      }
      assert.ok(details.targetPlatforms === undefined || details.targetPlatforms.includes("apple"));
    }
    await client.deleteRegistration(reg.registrationId);
  });

  test("getNotificationOutcomeDetails for an unknown id answers 404", async () => {
    await expectRestError(client.getNotificationOutcomeDetails(uid("nosuchmessage")), 404);
  });

  test("getFeedbackContainerUrl", async (t) => {
    const url = await optionalFeature(t, "getFeedbackContainerUrl", () => client.getFeedbackContainerUrl());
    if (url !== undefined) {
      assert.equal(typeof url, "string");
      assert.match(url.trim(), /^(https?|file):\/\//, "the feedback container is a URL");
    }
  });

  test("submit, get, list and poll notification hub jobs", { timeout: 60_000 }, async (t) => {
    const job = await optionalFeature(t, "submitNotificationHubJob", () =>
      client.submitNotificationHubJob({ type: "ExportRegistrations", outputContainerUrl }),
    );
    if (!job) {
      return;
    }
    assert.ok(job.jobId, "a submitted job has an id");
    assert.equal(job.type, "ExportRegistrations");

    const got = await client.getNotificationHubJob(job.jobId);
    assert.equal(got.jobId, job.jobId);
    assert.equal(got.type, "ExportRegistrations");
    assert.ok(["Started", "Running", "Completed", "Failed", undefined].includes(got.status), `status ${got.status}`);

    const all = await client.listNotificationHubJobs();
    assert.ok(all.some((j) => j.jobId === job.jobId), "the job is listed");

    // In SDK 2.1.0 the poller is itself a thenable that polls until done,
    // so awaiting the promise beginSubmitNotificationHubJob returns already
    // yields the finished job (there is no poller left to call
    // pollUntilDone on).
    const begin = () =>
      client.beginSubmitNotificationHubJob({ type: "ExportRegistrations", outputContainerUrl }, { updateIntervalInMs: 200 });
    if (jobContainer) {
      // A container the emulator can write to: the job must complete.
      const done = await begin();
      assert.equal(done.status, "Completed");
      assert.equal(done.type, "ExportRegistrations");
    } else {
      let done;
      try {
        done = await begin();
      } catch (e) {
        // A job that cannot write its output ends Failed; the poller (or its
        // first poll) throws the job's failure text. Either way it terminates.
        assert.ok(e instanceof Error && !(e instanceof assert.AssertionError), `poller threw ${e}`);
        t.diagnostic(`job poller ended with failure: ${e.message}`);
      }
      if (done) {
        assert.equal(done.status, "Completed");
      }
    }

    await expectRestError(client.getNotificationHubJob(uid("nosuchjob")), 404);
  });
});
