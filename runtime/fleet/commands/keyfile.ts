/**
 * Fleet key files, written by `hearth fleet keygen` on the admin's machine: `fleet-private.pem`
 * (0600) signs commands, `fleet-public.json` is a `telemetry.fleetKeys` entry for the boxes. The
 * files work like vendor key files (license/vendor-keyfile.ts), which do the work.
 */
import type { Static } from "@sinclair/typebox";
import { FleetKeyConfig } from "../../config/schema.ts";
import type { Signer } from "../../crypto/ed25519.ts";
import { generateKeyFiles, loadSigningKeyFile, readPublicKeyFile, type KeyFileKind, type KeyFiles } from "../../license/vendor-keyfile.ts";

export type FleetKey = Static<typeof FleetKeyConfig>;

export const FLEET_KEY_FILES: KeyFileKind<typeof FleetKeyConfig> = {
  privateFile: "fleet-private.pem",
  publicFile: "fleet-public.json",
  idPrefix: "fleet",
  entrySchema: FleetKeyConfig,
  entry: (keyId, publicKey): FleetKey => ({ keyId, publicKey }),
};

export const generateFleetKeyPair = (dir: string, keyId?: string): KeyFiles => generateKeyFiles(FLEET_KEY_FILES, dir, keyId);

/** The signer of a fleet private key file and its key id (--key-id, else fleet-public.json beside it, else derived). */
export const loadFleetSigningKey = (path: string, keyId?: string): { signer: Signer; keyId: string } => loadSigningKeyFile(FLEET_KEY_FILES, path, keyId);

export const readFleetPublicKey = (path: string, field = "public-key"): FleetKey => readPublicKeyFile(FLEET_KEY_FILES, path, field);
