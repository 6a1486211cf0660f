import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudState } from "./clouds.js";
import type { SimCall } from "./emit.js";
import { COGNITIVE_AUDIENCE } from "./entra.js";
import { simulateChat, simulateEmbeddings, simulateResponses } from "./openai.js";

const VERSION = /^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest)$/;

function azureError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "apim-request-id": crypto.randomUUID(), ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

/** Azure OpenAI: deployment routes with `api-version`, and the v1 routes with the deployment in `model`. */
export function simulateAzure(req: IncomingMessage, res: ServerResponse, call: SimCall, cloud: CloudState, deployment: string | null, op: string, apiVersion: string | null): void {
  const key = req.headers["api-key"];
  const known = cloud.ids.azureKeys ?? [];
  const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
  cloud.seen.azureAuth.push(typeof key === "string" ? "api-key" : bearer ? "bearer" : "none");
  if (typeof key !== "string" && bearer !== undefined) {
    if (!cloud.entra.accepts(bearer, COGNITIVE_AUDIENCE)) {
      return azureError(res, 401, "401", "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.");
    }
  } else if (typeof key !== "string" || !known.includes(key)) {
    return azureError(res, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.");
  }
  if (deployment !== null) {
    if (apiVersion === null) return azureError(res, 404, "404", "Resource not found");
    if (!VERSION.test(apiVersion)) return azureError(res, 400, "BadRequest", "API version not supported");
  }
  const name = deployment ?? String(call.body.model ?? "");
  const deployments = cloud.ids.azureDeployments;
  const model = deployments ? deployments[name] : name;
  if (!model) {
    return azureError(res, 404, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.");
  }
  if (call.script.fault === "429") {
    const wait = call.script.retryAfterS ?? 1;
    return azureError(res, 429, "429", `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion ?? "v1"} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${wait} second${wait === 1 ? "" : "s"}.`, { "retry-after": String(wait) });
  }
  if (call.script.fault === "500" || call.script.fault === "503" || call.script.fault === "529") {
    return azureError(res, 503, "ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later.");
  }
  const full = { ...call, model };
  if (op === "chat/completions") simulateChat(full);
  else if (op === "embeddings") simulateEmbeddings(full);
  else simulateResponses(full);
}
