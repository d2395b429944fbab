/** How one server answer is read: validators for If-Range, and the headers that refuse a response. */
import { expect, test } from "bun:test";
import { planResponse, resumeHeaders } from "../../../ota/agent/download-response.ts";

const res = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

test("If-Range uses a strong ETag, else Last-Modified, else nothing (the final sha256 still guards)", () => {
  expect(resumeHeaders(0, 100, { etag: '"a"', lastModified: null })).toEqual({});
  expect(resumeHeaders(10, 100, { etag: '"a"', lastModified: "Tue, 01 Sep 2026 10:00:00 GMT" })).toEqual({ range: "bytes=10-99", "if-range": '"a"' });
  expect(resumeHeaders(10, 100, { etag: 'W/"a"', lastModified: "Tue, 01 Sep 2026 10:00:00 GMT" })).toEqual({ range: "bytes=10-99", "if-range": "Tue, 01 Sep 2026 10:00:00 GMT" });
  expect(resumeHeaders(10, 100, { etag: 'W/"a"', lastModified: null })).toEqual({ range: "bytes=10-99" });
  expect(resumeHeaders(10, 100, null)).toEqual({ range: "bytes=10-99" });
});

test("206 checks: the range must start at the offset, stay inside the file, and match the file's size", () => {
  const ok = planResponse(res(206, { "content-range": "bytes 10-49/100", etag: '"a"' }), 10, 100, null);
  expect(ok).toEqual({ kind: "body", start: 10, length: 40, restart: false, validator: { etag: '"a"', lastModified: null } });
  expect(planResponse(res(206, { "content-range": "bytes 10-99/*" }), 10, 100, null).kind).toBe("body");
  const kinds = (h: Record<string, string>) => {
    const p = planResponse(res(206, h), 10, 100, null);
    return p.kind === "mirror_failed" ? p.reason : p.kind;
  };
  expect(kinds({})).toBe("bad_content_range");
  expect(kinds({ "content-range": "bytes 11-99/100" })).toBe("bad_content_range");
  expect(kinds({ "content-range": "bytes 10-100/*" })).toBe("bad_content_range");
  expect(kinds({ "content-range": "bytes 10-99/101" })).toBe("size_mismatch");
  expect(kinds({ "content-range": "bytes 10-99/100", "content-length": "91" })).toBe("too_many_bytes");
  expect(kinds({ "content-range": "bytes 10-99/100", "content-length": "89" })).toBe("bad_content_range");
});

test("a changed ETag on a 206 from the same URL means the file changed; statuses map to retry or refusal", () => {
  expect(planResponse(res(206, { "content-range": "bytes 10-99/100", etag: '"b"' }), 10, 100, { etag: '"a"', lastModified: null }).kind).toBe("validator_changed");
  expect(planResponse(res(200, { "content-length": "100" }), 10, 100, null)).toMatchObject({ kind: "body", start: 0, length: 100, restart: true });
  expect(planResponse(res(503, { "retry-after": "7" }), 0, 100, null)).toEqual({ kind: "retry", reason: "network", message: "HTTP 503", retryAfterMs: 7_000 });
  expect(planResponse(res(429), 0, 100, null).kind).toBe("retry");
  expect(planResponse(res(403), 0, 100, null)).toMatchObject({ kind: "mirror_failed", reason: "http_status" });
  expect(planResponse(res(416), 10, 100, null)).toMatchObject({ kind: "mirror_failed", reason: "size_mismatch" });
});
