// tlscheck.mjs proves that the interop suite keeps TLS verification on: run
// WITHOUT NODE_EXTRA_CA_CERTS, a call to the emulator must fail with a
// certificate error. Exit status 0 means it did; 1 means the call succeeded
// or failed for another reason. Run by TestJSSDKVerifiesTLS.

import { NotificationHubsClient } from "@azure/notification-hubs";

const client = new NotificationHubsClient(process.env.NH_CONNECTION_STRING, process.env.NH_HUB, {
  retryOptions: { maxRetries: 0 },
});
try {
  await client.getInstallation("tls-check");
  console.log("tlscheck: the call succeeded without trusting the emulator's certificate");
  process.exit(1);
} catch (e) {
  const code = e?.code ?? e?.cause?.code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(`${code} ${e?.message}`)) {
    console.log(`tlscheck: refused as expected (${code})`);
    process.exit(0);
  }
  console.log(`tlscheck: failed for another reason: ${code} ${e?.message}`);
  process.exit(1);
}
