import { describe, expect, it } from "vitest";
import { gatewayError } from "../errors";
import { problemBody } from "./problem";

describe("problemBody", () => {
  it("tells the two common 503s apart by title and code, without their internal detail", () => {
    const config = problemBody(gatewayError("configuration_invalid", "The gateway is misconfigured; its operator's log names the problem.", undefined, "REVOCATON is not a certgate variable"), "/x");
    const store = problemBody(gatewayError("trust_store_unavailable", "The trust store could not be loaded.", undefined, "KV key `v/1/store/default`: missing"), "/x");
    expect([config.status, config.title, config.code]).toEqual([503, "The gateway is misconfigured", "configuration_invalid"]);
    expect([store.status, store.title, store.code]).toEqual([503, "The trust store is unavailable", "trust_store_unavailable"]);
    expect(JSON.stringify([config, store])).not.toMatch(/REVOCATON|KV key/);
  });
});
