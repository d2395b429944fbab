/**
 * Where a release file can be fetched: a manifest lists absolute http(s) URLs (a CDN, mirrors) or
 * paths relative to the repository, resolved against the box's `ota.repo` URL. Anything else
 * (file:, ftp:, credentials in the URL) is not a place the box downloads from.
 */
import type { ReleaseFile } from "../schema/manifest.ts";

/** The file's URLs, absolute, in the manifest's order; the ones that are not plain http(s) are left out. */
export function fileUrls(repoUrl: string, file: ReleaseFile): string[] {
  const base = new URL(repoUrl.endsWith("/") ? repoUrl : `${repoUrl}/`);
  const urls: string[] = [];
  for (const entry of file.urls) {
    let url: URL;
    try {
      url = new URL(entry, base);
    } catch {
      continue;
    }
    if ((url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "") urls.push(url.href);
  }
  return urls;
}
