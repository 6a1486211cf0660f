import {
  CODECS, codecDialectOf, encodeGeminiEmbedRequest, nativeRequest, signatureOrigin, TranslationError, type CanonicalRequest, type CodecDialect, type UpstreamRequest,
} from "../providers/index.js";
import type { CatalogModel } from "../store/index.js";
import type { Translation } from "./plan.js";
import { restoreKept, thinkingOffForLostBlocks, type ReasoningKeep } from "./reasoning-keep.js";

/** A request as one upstream dialect takes it: what is sent, and how its answer comes back to the caller. */
export interface Form {
  request: UpstreamRequest;
  payload: Buffer;
  /** Null for the caller's own form (bytes pass through). */
  translation: Translation | null;
  /** Remove the usage chunk injected with stream_options.include_usage. */
  strip: boolean;
  /** What the translation changed in the request (the `latchkey-notice` header). */
  notice: string | null;
}

/** What a translation needs to know about the call besides the caller's body. */
export interface FormContext {
  keep: ReasoningKeep;
  orgId: string;
  model: CatalogModel;
  modelName: string;
  streamed: boolean;
}

type Made = Form | Promise<Form> | TranslationError;

/**
 * The caller's request in each dialect its deployments speak: the caller's own form, and each
 * translation made once, when a deployment of that dialect is first tried (a fallback that is
 * never needed costs nothing). Two deployments of one dialect and provider share a translation.
 */
export class RequestForms {
  /** The generation dialect the caller speaks; null for operations that are only passed through. */
  readonly caller: CodecDialect | null;
  /** Made on the first translation: most requests pass through and never need it. */
  private made: Map<string, Made> | null = null;

  constructor(readonly own: Form, private readonly body: Record<string, unknown>, private readonly ctx: FormContext) {
    this.caller = codecDialectOf(own.request.op);
  }

  /** Whether the caller's operation can be translated into `dialect` at all (OpenAI embeddings reach only Gemini's). */
  translatable(dialect: CodecDialect): boolean {
    if (this.own.request.op === "embeddings") return dialect === "gemini";
    return this.caller !== null && this.caller !== dialect;
  }

  /**
   * The request translated into `dialect` for `providerId` (whose name the refusals carry).
   * Throws TranslationError, naming the parameter, when that API cannot honour it.
   */
  translated(dialect: CodecDialect, providerId: string): Form | Promise<Form> {
    const k = `${dialect}\u0000${providerId}`;
    const made = (this.made ??= new Map());
    let m = made.get(k);
    if (m === undefined) {
      try {
        m = this.translate(dialect, providerId);
      } catch (err) {
        if (!(err instanceof TranslationError)) throw err;
        m = err;
      }
      if (m instanceof Promise) {
        m = m.then((f) => (made.set(k, f), f), (err: unknown) => {
          if (err instanceof TranslationError) made.set(k, err);
          throw err;
        });
      }
      made.set(k, m);
    }
    if (m instanceof TranslationError) throw m;
    return m;
  }

  private translate(dialect: CodecDialect, providerId: string): Form | Promise<Form> {
    const { body, ctx } = this;
    const r = this.own.request;
    const opts = body.stream_options as Record<string, unknown> | undefined;
    if (r.op === "embeddings") {
      const encoded = encodeGeminiEmbedRequest(body, ctx.modelName, providerId);
      return {
        request: { op: "batch_embed_contents", dialect: "gemini", model: ctx.modelName, inboundPath: r.inboundPath, sse: false, body: encoded },
        payload: Buffer.from(JSON.stringify(encoded)), strip: false, notice: null,
        translation: { upstream: "gemini", caller: "chat", includeUsage: false, embed: { base64: body.encoding_format === "base64" } },
      };
    }
    const caller = this.caller!;
    const canonical = CODECS[caller].decodeRequest(body, providerId);
    canonical.stream = ctx.streamed;
    const translation: Translation = { upstream: dialect, caller, includeUsage: opts?.include_usage === true, embed: null };
    // A Chat caller's history has no standard field for Anthropic's signed thinking: what was kept is restored.
    if (dialect === "anthropic" && caller === "chat") {
      return restoreKept(ctx.keep, ctx.orgId, canonical).then(() => this.encode(canonical, dialect, translation));
    }
    return this.encode(canonical, dialect, translation);
  }

  private encode(canonical: CanonicalRequest, dialect: CodecDialect, translation: Translation): Form {
    const ctx = this.ctx;
    const origin = signatureOrigin(dialect, ctx.model.id);
    const notice = dialect === "anthropic" ? thinkingOffForLostBlocks(canonical, origin) : null;
    const encoded = CODECS[dialect].encodeRequest(canonical, { model: ctx.modelName, maxOutputTokens: ctx.model.maxOutputTokens, origin });
    const r = this.own.request;
    return {
      request: { ...nativeRequest(dialect, r, ctx.streamed), body: encoded, beta: r.beta },
      payload: Buffer.from(JSON.stringify(encoded)), translation, strip: false, notice,
    };
  }
}
