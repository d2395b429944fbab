/**
 * The repository, a directory any static HTTP server with Range support can serve:
 *
 *   root/1.root.json, 2.root.json, …          root documents, one per version, never rewritten
 *   index.json                                the signed channel index, replaced atomically
 *   manifests/<name>/<version>/<sha256>.json  signed manifests, content-addressed, never rewritten
 *   files/<sha256>/<file name>                the release files, content-addressed
 *
 * Content-addressed names mean a box that fetched the previous index.json still finds everything
 * it names while a publish is under way: only index.json ever changes in place, and last.
 */
import { join } from "node:path";

export const INDEX_FILE = "index.json";
export const ROOT_DIR = "root";

export const rootFile = (version: number): string => `${ROOT_DIR}/${version}.root.json`;
export const manifestFile = (name: string, version: string, sha256: string): string => `manifests/${name}/${version}/${sha256}.json`;
export const releaseFile = (sha256: string, name: string): string => `files/${sha256}/${name}`;

/** A repository-relative path (as listed in the index and manifests) under the directory. */
export const inRepo = (dir: string, relative: string): string => join(dir, ...relative.split("/"));
