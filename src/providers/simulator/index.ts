import { splitBaseUrl, type Provider } from "../types.js";

/** Every provider's caller headers (it plays them all), and its own fault and pace switches. */
const SIMULATOR_CLIENT_HEADERS = ["anthropic-version", "anthropic-beta", "openai-beta", "content-type", "accept", "x-simulator-fault", "x-simulator-delay-ms"] as const;

/** The simulator speaks every dialect on the provider's own paths, so the inbound path is mirrored. */
export const simulator: Provider = {
  id: "simulator",
  dialects: ["anthropic", "openai", "gemini"],
  defaultBaseUrl: "http://127.0.0.1:8421",
  // Its own models (sim-*) answer in every dialect, so nothing is translated for them.
  codec: null,
  target(r, baseUrl, secret) {
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const sse = r.op === "stream_generate" && r.sse ? "?alt=sse" : "";
    return { origin, path: prefix + r.inboundPath + sse, auth: [["authorization", `Bearer ${secret}`]], dialect: r.dialect, clientHeaders: SIMULATOR_CLIENT_HEADERS };
  },
};
