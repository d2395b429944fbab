import { describe, expect, test } from "bun:test";
import { fileUrls } from "../../../ota/verify/urls.ts";

const file = (urls: string[]) => ({ name: "m.gguf", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls });

describe("fileUrls", () => {
  test("relative paths resolve under the repository URL, with or without its trailing slash", () => {
    expect(fileUrls("http://repo.local:8090/ota", file(["files/abc/m.gguf"]))).toEqual(["http://repo.local:8090/ota/files/abc/m.gguf"]);
    expect(fileUrls("http://repo.local:8090/ota/", file(["files/abc/m.gguf"]))).toEqual(["http://repo.local:8090/ota/files/abc/m.gguf"]);
  });

  test("mirrors keep their order; URLs with credentials are left out", () => {
    const urls = fileUrls("https://repo.example", file(["https://cdn.example/f/m.gguf", "https://user:pw@cdn.example/m.gguf", "files/abc/m.gguf"]));
    expect(urls).toEqual(["https://cdn.example/f/m.gguf", "https://repo.example/files/abc/m.gguf"]);
  });
});
