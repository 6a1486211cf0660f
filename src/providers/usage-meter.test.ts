import { describe, expect, it } from "vitest";
import { keyAt, UsageMeter } from "./usage-meter.js";

const sse = (events: string[]) => events.map((e) => `data: ${e}\n\n`).join("");

describe("UsageMeter", () => {
  it("reads Anthropic message_start input and cumulative message_delta output across split chunks", () => {
    const text =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1,"cache_creation_input_tokens":7,"cache_read_input_tokens":3,"cache_creation":{"ephemeral_5m_input_tokens":7}}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi {\\"usage\\":"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n';
    for (const size of [1, 7, 64, text.length]) {
      const m = new UsageMeter("anthropic", true);
      const buf = Buffer.from(text);
      const out: Buffer[] = [];
      for (let i = 0; i < buf.length; i += size) out.push(m.push(buf.subarray(i, i + size)));
      expect(Buffer.concat(out).toString()).toBe(text);
      expect(m.read().usage).toEqual({ input: 25, output: 15, cacheWrite: 7, cacheRead: 3 });
    }
  });

  it("reads pretty-printed OpenAI JSON and strips nothing", () => {
    const m = new UsageMeter("openai", false);
    const body = JSON.stringify({ id: "x", choices: [{ message: { content: "usage" } }], usage: { prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 6 } } }, null, 2);
    expect(m.push(Buffer.from(body)).toString()).toBe(body);
    expect(m.read().usage).toEqual({ input: 4, output: 4, cacheWrite: 0, cacheRead: 6 });
  });

  it("strips the injected usage chunk of an OpenAI stream and still meters it", () => {
    const chunks = [
      '{"id":"c","choices":[{"index":0,"delta":{"content":"Hello"}}],"usage":null}',
      '{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}',
      "[DONE]",
    ];
    const text = sse(chunks);
    const m = new UsageMeter("openai", true, true);
    const buf = Buffer.from(text);
    const out = [m.push(buf.subarray(0, 50)), m.push(buf.subarray(50, 120)), m.push(buf.subarray(120))];
    const sent = Buffer.concat(out).toString();
    expect(sent).toBe(sse([chunks[0]!, chunks[2]!]));
    expect(m.read().usage).toEqual({ input: 9, output: 12, cacheWrite: 0, cacheRead: 0 });
  });

  it("reads Gemini usageMetadata and counts deltas of a cut stream", () => {
    const m = new UsageMeter("gemini", true);
    m.push(Buffer.from(sse(['{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1}}'])));
    m.push(Buffer.from(sse(['{"candidates":[{"content":{"parts":[{"text":"b"}]}}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"cachedContentTokenCount":2}}'])));
    const r = m.read();
    expect(r.usage).toEqual({ input: 6, output: 2, cacheWrite: 0, cacheRead: 2 });
    expect(r.deltas).toBe(2);
  });

  it("finds usage and strips the usage chunk and its blank line behind multi-byte text, at every split, LF or CRLF", () => {
    // Searched as latin1, a character a byte: the indices found must still be the buffer's.
    const chunks = [
      '{"id":"c","choices":[{"index":0,"delta":{"content":"Grüße, 漢字 🙂"}}],"usage":null}',
      '{"id":"c","choices":[{"index":0,"delta":{"content":"ñ \\"usage\\": {}"}}],"usage":null}',
      '{"id":"c","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}',
      "[DONE]",
    ];
    for (const eol of ["\n", "\r\n"]) {
      const events = (es: string[]) => es.map((e) => `data: ${e}${eol}${eol}`).join("");
      const buf = Buffer.from(events(chunks));
      for (const size of [1, 2, 5, 33, buf.length]) {
        const m = new UsageMeter("openai", true, true);
        const out: Buffer[] = [];
        for (let i = 0; i < buf.length; i += size) out.push(m.push(buf.subarray(i, i + size)));
        const rest = m.flushCarry();
        if (rest) out.push(rest);
        expect(Buffer.concat(out).toString()).toBe(events([chunks[0]!, chunks[1]!, chunks[3]!]));
        const r = m.read();
        expect(r.usage).toEqual({ input: 11, output: 5, cacheWrite: 0, cacheRead: 0 });
        expect(r.deltas).toBe(2);
      }
    }
  });

  it("finds a key by its name and the quote before it exactly where a search for the quoted key would", () => {
    // Texts made of the characters that matter (quotes, the names' letters, an escape): every
    // near miss, a name with no quote before it, a quote then half a name, names back to back.
    const alphabet = ['"', "u", "s", "a", "g", "e", "d", "l", "t", "x", "\\", ":", "{", "usage", "delta\"", "text\""];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 3000; round++) {
      let text = "";
      const length = Math.floor(next() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      for (const name of ["usage", 'delta"', 'text"']) {
        for (let from = 0; from <= text.length; from++) {
          expect([text, name, from, keyAt(text, name, from)]).toEqual([text, name, from, text.indexOf(`"${name}`, from)]);
        }
      }
    }
  });
});
